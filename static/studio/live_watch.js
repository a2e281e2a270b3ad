// A live stream watched through a share link: frames as they are made, and
// the votes its creator offers. Protocol: README "Sharing live"
// (/ws/live/watch?share=<token>, binary message type 2 = live frame).

import { decodeFrame, paintFrame } from "./live_mode.js";

// A dropped connection is tried again after this long (ms), doubling up to a minute.
const RETRY = 2000;
const MAX_RETRY = 60000;
// Closes after which trying again cannot help.
const FINAL = {
  4400: "The studio did not understand this page; reload it.",
  4404: "This link no longer opens the stream. Ask whoever sent it for a new one.",
  4429: "Too many requests from your address; wait a minute and reload.",
  4503: "This stream has as many viewers as it can take; try again in a while.",
};

class Watch {
  constructor(root) {
    this.root = root;
    this.canvas = root.querySelector("#watch-canvas");
    this.context = this.canvas.getContext("2d");
    this.roles = {};
    for (const element of root.querySelectorAll("[data-role]")) {
      this.roles[element.dataset.role] = element;
    }
    this.frames = 0;
    this.epoch = 0;
    this.lastIndex = -1;
    this.session = null;
    this.poll = null;
    this.choice = null;
    this.retry = RETRY;
    this.lastError = "";
    this.timer = null;
    this.connect();
    window.addEventListener("pagehide", () => this.socket?.close(1000));
    root.dataset.bound = "";
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${this.root.dataset.socket}`);
    socket.binaryType = "arraybuffer";
    socket.addEventListener("open", () => {
      this.retry = RETRY;
    });
    socket.addEventListener("message", (event) => this.onMessage(event));
    socket.addEventListener("close", (event) => this.onClose(socket, event));
    this.socket = socket;
  }

  setState(state, text) {
    if (state !== "live") this.epoch += 1;
    this.root.dataset.state = state;
    this.roles.badge.hidden = state !== "live";
    this.roles.message.hidden = state === "live";
    if (text) this.roles.message.textContent = text;
  }

  onMessage(event) {
    if (typeof event.data !== "string") {
      this.onFrame(event.data);
      return;
    }
    const message = JSON.parse(event.data);
    switch (message.type) {
      case "waiting":
        this.setState("waiting", "Waiting for the stream to start…");
        break;
      case "started":
        this.canvas.width = message.width;
        this.canvas.height = message.height;
        this.lastIndex = -1;
        this.session = null;
        this.setState("starting", "The stream is starting…");
        break;
      case "stopped":
        this.setState("ended", "The stream has ended. This page plays it again if it restarts.");
        this.closePoll();
        break;
      case "poll":
        this.showPoll(message);
        break;
      case "tally":
        this.showCounts(message.counts);
        break;
      case "voted":
        this.choice = message.choice;
        this.markChoice();
        break;
      case "poll_closed":
        this.pollClosed(message);
        break;
      case "error":
        // A refusal's reason shows when the socket closes; a vote's, at once.
        this.lastError = message.error;
        if (!this.roles.vote.hidden) this.roles["vote-note"].textContent = message.error;
        break;
      default:
        break;
    }
  }

  async onFrame(buffer) {
    const { header, image } = decodeFrame(buffer);
    if (this.root.dataset.state === "ended") return; // a frame still in flight after the stop
    if (header.session !== this.session) {
      this.session = header.session; // a new session starts its count again
      this.lastIndex = -1;
    }
    if (header.index <= this.lastIndex) return;
    const epoch = this.epoch;
    if (!(await paintFrame(this, header, image))) return;
    // A stop (or a new start) that arrived while the frame decoded wins over it.
    if (epoch !== this.epoch) return;
    if (this.root.dataset.state !== "live") this.setState("live");
  }

  showPoll(message) {
    this.poll = message;
    this.choice = null;
    this.root.dataset.poll = String(message.poll);
    const box = this.roles.choices;
    box.replaceChildren();
    message.choices.forEach((choice, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button watch-choice";
      button.dataset.choice = String(index);
      const label = document.createElement("span");
      label.textContent = choice.label;
      const count = document.createElement("strong");
      count.dataset.role = "count";
      button.append(label, count);
      button.addEventListener("click", () => this.vote(index));
      box.append(button);
    });
    this.roles["vote-note"].textContent = "Tap a choice; you can change your mind until the vote closes.";
    this.roles.vote.hidden = false;
    this.showCounts(message.counts);
    this.countdown(Date.now() + message.ends_in * 1000);
  }

  countdown(ends) {
    clearInterval(this.timer);
    const tick = () => {
      const left = Math.max(0, Math.round((ends - Date.now()) / 1000));
      this.roles["vote-time"].textContent = `${left} s left`;
      if (!left) clearInterval(this.timer);
    };
    tick();
    this.timer = setInterval(tick, 1000);
  }

  vote(index) {
    if (this.socket?.readyState !== WebSocket.OPEN || !this.poll) return;
    this.socket.send(JSON.stringify({ type: "vote", choice: index }));
  }

  markChoice() {
    for (const button of this.roles.choices.children) {
      const chosen = Number(button.dataset.choice) === this.choice;
      button.setAttribute("aria-pressed", String(chosen));
    }
    this.root.dataset.voted = String(this.choice);
  }

  showCounts(counts) {
    const total = counts.reduce((sum, n) => sum + n, 0);
    this.root.dataset.votes = String(total);
    counts.forEach((n, i) => {
      const button = this.roles.choices.children[i];
      if (!button) return;
      button.querySelector("[data-role=count]").textContent = String(n);
      button.style.setProperty("--share", total ? n / total : 0);
    });
  }

  pollClosed(message) {
    this.poll = null;
    clearInterval(this.timer);
    this.roles["vote-time"].textContent = "closed";
    for (const button of this.roles.choices.children) button.disabled = true;
    this.showCounts(message.counts);
    const note = this.roles["vote-note"];
    if (message.cancelled) note.textContent = "The vote was called off.";
    else if (message.winner === null) note.textContent = "Nobody voted; the stream goes on as it was.";
    else note.textContent = `“${message.label}” won with ${message.counts[message.winner]} of ${message.votes} votes — watch it happen.`;
    this.root.dataset.winner = message.winner === null ? "" : String(message.winner);
  }

  closePoll() {
    this.poll = null;
    clearInterval(this.timer);
    this.roles.vote.hidden = true;
  }

  onClose(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.closePoll();
    const final = FINAL[event.code];
    if (final) {
      this.setState("closed", this.lastError || final);
      return;
    }
    this.setState("reconnecting", "The connection was lost; trying again…");
    setTimeout(() => this.connect(), this.retry);
    this.retry = Math.min(this.retry * 2, MAX_RETRY);
  }
}

const root = document.getElementById("watch");
if (root) new Watch(root);
