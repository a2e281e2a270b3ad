// Live mode: frames made as they play, steered by the prompt box.
// Protocol: README "Live mode" (/ws/live, binary message type 2 = live frame).

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
    };
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
    this.bind();
    this.setState("idle");
  }

  bind() {
    this.buttons.start.addEventListener("click", () => this.start());
    this.buttons.stop.addEventListener("click", () => this.stop());
    this.buttons.record.addEventListener("click", () => this.toggleRecord());
    this.prompt.addEventListener("input", () => this.steerSoon());
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
    if (this.root.dataset.project) message.project = this.root.dataset.project;
    this.sentPrompt = prompt;
    if (this.send(message)) return;
    this.connect(() => this.send(message));
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
    this.lastIndex = header.index;
    const bitmap = await createImageBitmap(image);
    if (header.index !== this.lastIndex) {
      bitmap.close(); // a newer frame arrived while this one decoded
      return;
    }
    this.context.drawImage(bitmap, 0, 0, this.canvas.width, this.canvas.height);
    bitmap.close();
    this.frames += 1;
    this.root.dataset.frames = String(this.frames);
    this.root.dataset.promptIndex = String(header.prompt_index);
    this.roles.count.textContent = String(this.frames);
    if (this.recording) {
      this.recordedFrames += 1;
      this.roles["rec-time"].textContent = `${(this.recordedFrames / this.fps).toFixed(1)} s`;
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
    this.setState("idle");
    this.status("Not started.");
  }
}

const root = document.getElementById("live");
if (root) new LiveMode(root);
