// Live mode: frames made as they play, steered by the prompt box; the
// viewers watching through share links, and the votes offered to them.
// Protocol: README "Live mode" (/ws/live, binary message type 2 = live frame)
// and "Sharing live".

const LIVE_FRAME = 2;
// An edit steers the stream once typing pauses this long (ms).
const DEBOUNCE = 300;

// Binary live frame: u32 type, u32 header length, JSON header, JPEG bytes.
export function decodeFrame(buffer) {
  const view = new DataView(buffer);
  const type = view.getUint32(0);
  const length = view.getUint32(4);
  if (type !== LIVE_FRAME) throw new Error(`unknown message type ${type}`);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length)));
  const image = new Blob([new Uint8Array(buffer, 8 + length)], {
    type: `image/${header.format}`,
  });
  return { header, image };
}

// Draw a decoded frame on the player's canvas unless a newer one arrives
// while it decodes; whether it was drawn. The player keeps lastIndex,
// frames, canvas, context and root.
export async function paintFrame(player, header, image) {
  player.lastIndex = header.index;
  const bitmap = await createImageBitmap(image);
  if (header.index !== player.lastIndex) {
    bitmap.close(); // a newer frame arrived while this one decoded
    return false;
  }
  player.context.drawImage(bitmap, 0, 0, player.canvas.width, player.canvas.height);
  bitmap.close();
  player.frames += 1;
  player.root.dataset.frames = String(player.frames);
  return true;
}

class LiveMode {
  constructor(root) {
    this.root = root;
    this.canvas = root.querySelector("#live-canvas");
    this.context = this.canvas.getContext("2d");
    this.prompt = root.querySelector("#live-prompt");
    this.buttons = {
      start: root.querySelector("[data-action=start]"),
      stop: root.querySelector("[data-action=stop]"),
      record: root.querySelector("[data-action=record]"),
      poll: root.querySelector("[data-action=poll]"),
      pollClose: root.querySelector("[data-action=poll-close]"),
      pollCancel: root.querySelector("[data-action=poll-cancel]"),
    };
    this.voteForm = root.querySelector("[data-role=vote-form]");
    this.roles = {};
    for (const element of root.querySelectorAll("[data-role]")) {
      this.roles[element.dataset.role] = element;
    }
    this.socket = null;
    this.session = null;
    this.fps = Number(root.dataset.fps);
    this.frames = 0;
    this.lastIndex = -1;
    this.sentPrompt = "";
    this.timer = null;
    this.recording = false;
    this.recordedFrames = 0;
    this.poll = null;
    this.bind();
    this.setState("idle");
    // Open at once: viewers waiting for the stream are counted before it starts.
    this.ensureSocket(() => {});
  }

  bind() {
    this.buttons.start.addEventListener("click", () => this.start());
    this.buttons.stop.addEventListener("click", () => this.stop());
    this.buttons.record.addEventListener("click", () => this.toggleRecord());
    this.voteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.offerVote();
    });
    this.buttons.pollClose.addEventListener("click", () => this.send({ type: "poll", close: true }));
    this.buttons.pollCancel.addEventListener("click", () => this.send({ type: "poll", cancel: true }));
    // The share panel is swapped by htmx: listen on the page for its Copy button.
    document.addEventListener("click", (event) => {
      const button = event.target.closest("[data-copy]");
      if (button) copyText(button);
    });
    this.prompt.addEventListener("input", () => this.steerSoon());
    // A look grades the frames from the next one on; before Start it waits.
    this.root.querySelector("[data-role=look]")?.addEventListener("change", () => {
      if (this.state === "live") this.send({ type: "style", style: this.lookChoice() });
    });
    // The reading's "Use this" puts an in-world prompt in the box (and steers).
    document.addEventListener("click", (event) => {
      const button = event.target.closest?.("[data-fill-prompt]");
      if (!button) return;
      this.prompt.value = button.dataset.fillPrompt;
      this.prompt.dispatchEvent(new Event("input", { bubbles: true }));
      this.prompt.focus();
    });
    this.prompt.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (this.state === "idle") this.start();
        else this.steerNow();
      }
    });
    // Leaving the page ends the stream at once, freeing the device.
    window.addEventListener("pagehide", () => this.socket?.close(1000));
    this.root.dataset.bound = "";
  }

  setState(state) {
    this.state = state;
    this.root.dataset.state = state;
    const running = state === "live" || state === "starting";
    this.buttons.start.hidden = running || state === "stopping";
    this.buttons.stop.hidden = !running;
    this.buttons.record.disabled = state !== "live";
    this.buttons.poll.disabled = state !== "live";
    this.roles.badge.hidden = state !== "live";
    if (state !== "live") this.setRecording(false);
  }

  status(text) {
    this.roles.status.textContent = text;
  }

  showError(text) {
    this.roles.error.textContent = text;
    this.roles.error.hidden = !text;
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  lookChoice() {
    const value = this.root.querySelector("[data-role=look]")?.value;
    return value ? Number(value) : null;
  }

  start() {
    const prompt = this.prompt.value.trim();
    if (!prompt) {
      this.showError("Type a prompt to start the stream.");
      this.prompt.focus();
      return;
    }
    this.showError("");
    this.setState("starting");
    this.status("Starting… (the first start loads the model)");
    const message = { type: "start", prompt };
    const look = this.lookChoice();
    if (look !== null) message.style = look;
    if (this.root.dataset.project) message.project = this.root.dataset.project;
    this.sentPrompt = prompt;
    this.ensureSocket(() => this.send(message));
  }

  ensureSocket(onOpen) {
    if (this.socket?.readyState === WebSocket.OPEN) onOpen();
    else if (this.socket?.readyState === WebSocket.CONNECTING) {
      this.socket.addEventListener("open", onOpen, { once: true });
    } else this.connect(onOpen);
  }

  connect(onOpen) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${this.root.dataset.socket}`);
    socket.binaryType = "arraybuffer";
    socket.addEventListener("open", onOpen);
    socket.addEventListener("message", (event) => this.onMessage(event));
    socket.addEventListener("close", (event) => this.onClose(socket, event));
    this.socket = socket;
  }

  stop() {
    if (this.send({ type: "stop" })) {
      this.setState("stopping");
      this.status("Stopping…");
    } else {
      this.setState("idle");
    }
  }

  toggleRecord() {
    const on = !this.recording;
    if (!this.send({ type: "record", on })) return;
    this.setRecording(on);
    if (!on) this.status("Saving the recording…");
  }

  setRecording(on) {
    this.recording = on;
    this.recordedFrames = 0;
    this.buttons.record.setAttribute("aria-pressed", String(on));
    this.buttons.record.textContent = on ? "■ Stop recording" : "● Record";
    this.roles.rec.hidden = !on;
    this.roles["rec-time"].textContent = "0 s";
  }

  steerSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.steerNow(), DEBOUNCE);
  }

  steerNow() {
    clearTimeout(this.timer);
    const prompt = this.prompt.value.trim();
    if (this.state !== "live" || !prompt || prompt === this.sentPrompt) return;
    if (this.send({ type: "prompt", prompt })) this.sentPrompt = prompt;
  }

  onMessage(event) {
    if (typeof event.data !== "string") {
      this.onFrame(event.data);
      return;
    }
    const message = JSON.parse(event.data);
    switch (message.type) {
      case "started":
        this.session = message.session;
        this.fps = message.fps;
        this.canvas.width = message.width;
        this.canvas.height = message.height;
        this.lastIndex = -1;
        this.roles.placeholder.hidden = true;
        this.setState("live");
        this.status(`Live at up to ${message.fps} fps · seed ${message.seed}`);
        this.steerNow(); // an edit made while it started
        break;
      case "stats":
        this.roles.fps.textContent = message.fps.toFixed(1);
        this.roles.latency.textContent =
          message.latency_ms === null ? "–" : `${message.latency_ms} ms`;
        if (message.viewers !== undefined) this.setViewers(message.viewers);
        break;
      case "viewers":
        this.setViewers(message.count);
        break;
      case "poll":
        this.showPoll(message);
        break;
      case "tally":
        this.showCounts(message.counts);
        break;
      case "poll_closed":
        this.pollClosed(message);
        break;
      case "recorded":
        // Cut at the longest a recording may be: recording is off now.
        if (message.limit_reached) this.setRecording(false);
        this.addRecorded(message);
        break;
      case "stopped":
        this.session = null;
        this.setState("idle");
        this.status(message.reason || "Stopped.");
        break;
      case "error":
        this.showError(message.error);
        if (this.state === "starting") this.setState("idle");
        break;
      default:
        break;
    }
  }

  async onFrame(buffer) {
    const { header, image } = decodeFrame(buffer);
    if (header.session !== this.session || header.index <= this.lastIndex) return;
    if (!(await paintFrame(this, header, image))) return;
    this.root.dataset.promptIndex = String(header.prompt_index);
    this.roles.count.textContent = String(this.frames);
    if (this.recording) {
      this.recordedFrames += 1;
      this.roles["rec-time"].textContent = `${(this.recordedFrames / this.fps).toFixed(1)} s`;
    }
  }

  setViewers(count) {
    this.roles.viewers.textContent = String(count);
    this.root.dataset.viewers = String(count);
  }

  offerVote() {
    const choices = [];
    for (const fieldset of this.voteForm.querySelectorAll("fieldset")) {
      const label = fieldset.querySelector("[name=label]").value.trim();
      const prompt = fieldset.querySelector("[name=prompt]").value.trim();
      if (prompt) choices.push(label ? { label, prompt } : { prompt });
      else if (label) {
        this.showError(`“${label}” needs the prompt it steers the stream to.`);
        return;
      }
    }
    if (choices.length < 2) {
      this.showError("Give at least two choices a prompt.");
      return;
    }
    const seconds = Number(this.voteForm.elements.seconds.value);
    this.showError("");
    this.send({ type: "poll", choices, seconds });
  }

  showPoll(message) {
    this.poll = message;
    this.voteForm.hidden = true;
    this.roles.poll.hidden = false;
    this.root.dataset.poll = String(message.poll);
    this.roles["poll-state"].textContent = `Vote open for ${message.seconds} s`;
    const list = this.roles["poll-choices"];
    list.replaceChildren();
    for (const choice of message.choices) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = choice.label;
      name.title = choice.prompt || "";
      const count = document.createElement("strong");
      count.dataset.role = "poll-count";
      count.textContent = "0";
      const bar = document.createElement("span");
      bar.className = "live-poll-bar";
      item.append(name, count, bar);
      list.append(item);
    }
    this.showCounts(message.counts);
  }

  showCounts(counts) {
    const total = counts.reduce((sum, n) => sum + n, 0);
    this.roles["poll-votes"].textContent = `${total} vote${total === 1 ? "" : "s"}`;
    this.root.dataset.votes = String(total);
    const items = this.roles["poll-choices"].children;
    counts.forEach((n, i) => {
      if (!items[i]) return;
      items[i].querySelector("[data-role=poll-count]").textContent = String(n);
      items[i].style.setProperty("--share", total ? n / total : 0);
    });
  }

  pollClosed(message) {
    this.poll = null;
    this.voteForm.hidden = false;
    this.roles.poll.hidden = true;
    delete this.root.dataset.poll;
    if (message.cancelled) this.status("Vote cancelled.");
    else if (message.winner === null) this.status("Nobody voted; the prompt stays.");
    else {
      this.status(`Viewers chose “${message.label}” (${message.counts[message.winner]} of ${message.votes} votes).`);
      // The stream follows the winner: so does the prompt box.
      this.prompt.value = message.prompt;
      this.sentPrompt = message.prompt;
    }
  }

  addRecorded(message) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = message.url;
    link.textContent = `Clip of ${message.seconds} s (${message.frames} frames)`;
    link.dataset.generation = message.generation;
    item.append(link);
    this.roles["recorded-list"].prepend(item);
    this.roles.recorded.hidden = false;
    this.root.dataset.recorded = String(this.roles["recorded-list"].children.length);
    if (this.state === "live") this.status(`Live at up to ${this.fps} fps · clip saved`);
  }

  onClose(socket, event) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.session = null;
    if (event.code === 4401) this.showError("Log in again to use Live mode.");
    else if (event.code === 4400) this.showError("The studio did not understand a message; reload the page.");
    else if (event.code !== 4409 && this.state !== "idle") {
      this.showError("The connection to the studio was lost; press Start to go on.");
    }
    if (this.poll) this.pollClosed({ cancelled: true });
    this.setState("idle");
    this.status("Not started.");
  }
}

function copyText(button) {
  const text = button.dataset.copy;
  const done = () => {
    button.textContent = "Copied";
  };
  const select = () => {
    const code = button.parentElement.querySelector("code");
    if (code) window.getSelection().selectAllChildren(code);
    button.textContent = "Press Ctrl+C";
  };
  if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, select);
  else select();
}

const root = document.getElementById("live");
if (root) new LiveMode(root);
