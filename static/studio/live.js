// The studio page's behaviour: live previews over the websocket, the
// gallery's hover play and player, the page-wide shortcuts.

const PREVIEW = 1;
// Reconnection attempts after the socket drops (about 80 s in all).
const RETRIES = 20;
const players = new Map(); // generation id -> LivePreview

// Binary preview message: u32 type, u32 header length, JSON header, image bytes.
export function decodePreview(buffer) {
  const view = new DataView(buffer);
  const type = view.getUint32(0);
  const length = view.getUint32(4);
  if (type !== PREVIEW) throw new Error(`unknown message type ${type}`);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length)));
  const image = new Blob([new Uint8Array(buffer, 8 + length)], {
    type: `image/${header.format}`,
  });
  return { header, image };
}

function seconds(value) {
  if (value === null || value === undefined) return "…";
  return value < 10 ? `${value.toFixed(1)} s` : `${Math.round(value)} s`;
}

// The tab's title follows the clip being rendered ("[7/20] Project · Studio"),
// so a creator working in another tab sees it progress and finish.
const pageTitle = document.title;

function showProgressInTitle() {
  const running = [...players.values()].find((player) => player.progressText);
  document.title = running ? `[${running.progressText}] ${pageTitle}` : pageTitle;
}

// The top bar's count follows the same events as the cards: a clip that
// starts or ends recounts it at once, so the two never disagree.
function clipsChanged() {
  document.body.dispatchEvent(new CustomEvent("clips-changed", { bubbles: true }));
}

class LivePreview {
  constructor(card) {
    this.card = card;
    this.id = card.dataset.generation;
    this.canvas = card.querySelector("canvas");
    this.context = this.canvas.getContext("2d");
    this.bar = card.querySelector(".progress-bar");
    this.progress = card.querySelector(".progress");
    this.status = card.querySelector("[data-role=status]");
    this.strip = null;
    this.header = null;
    this.frame = 0;
    this.finished = false;
    this.retries = 0;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.socket = new WebSocket(`${scheme}://${location.host}${this.card.dataset.live}`);
    this.socket.binaryType = "arraybuffer";
    this.socket.addEventListener("message", (event) => this.onMessage(event));
    this.socket.addEventListener("close", (event) => this.onClose(event));
  }

  onMessage(event) {
    if (typeof event.data !== "string") {
      this.onPreview(event.data);
      return;
    }
    const message = JSON.parse(event.data);
    switch (message.type) {
      case "state":
        // Connected (again): a later drop gets its full round of retries.
        this.retries = 0;
        delete this.card.dataset.connection;
        this.onState(message);
        break;
      case "queued":
        this.setStatus(`Queued · #${message.position} in line`);
        break;
      case "started":
        clipsChanged();
        this.card.dataset.status = "running";
        this.setStatus("Starting…");
        break;
      case "progress":
        this.onProgress(message);
        break;
      case "succeeded":
        this.onSucceeded();
        break;
      case "failed":
        this.onFailed(message.error);
        break;
      case "cancelled":
        this.finish();
        this.card.remove();
        break;
    }
  }

  onState(state) {
    this.card.dataset.status = state.status;
    if (state.status === "queued") {
      this.setStatus(state.position ? `Queued · #${state.position} in line` : "Queued");
    } else if (state.status === "running") {
      this.onProgress(state.progress);
    } else if (state.status === "succeeded") {
      this.onSucceeded();
    } else if (state.status === "failed") {
      this.onFailed(state.error);
    } else if (state.status === "cancelled") {
      this.finish();
      this.card.remove();
    }
  }

  onProgress({ step = 0, steps = 0, elapsed, eta }) {
    const share = steps ? (100 * step) / steps : 0;
    this.bar.style.width = `${share}%`;
    this.progress.setAttribute("aria-valuenow", Math.round(share));
    const parts = [`Step ${step}/${steps}`];
    if (elapsed !== undefined) parts.push(`${seconds(elapsed)} elapsed`);
    if (eta !== undefined && step < steps) parts.push(`ETA ${seconds(eta)}`);
    this.setStatus(parts.join(" · "));
    this.progressText = `${step}/${steps}`;
    showProgressInTitle();
  }

  async onPreview(buffer) {
    const { header, image } = decodePreview(buffer);
    const strip = await createImageBitmap(image);
    if (this.canvas.width !== header.width || this.canvas.height !== header.height) {
      this.canvas.width = header.width;
      this.canvas.height = header.height;
    }
    this.strip?.close?.();
    this.strip = strip;
    this.header = header;
    this.card.dataset.previews = String(Number(this.card.dataset.previews) + 1);
    // Page-wide count, still readable after the card gives way to the clip.
    const root = document.documentElement.dataset;
    root.previews = String(Number(root.previews || 0) + 1);
    this.card.dataset.step = String(header.step);
    this.draw();
  }

  // Called by the shared animation clock: show the clip frame by frame.
  draw() {
    const { strip, header } = this;
    if (!strip || !header) return;
    const frame = this.frame % header.frames;
    const columns = header.layout === "grid" ? header.columns : header.frames;
    const x = (frame % columns) * header.width;
    const y = Math.floor(frame / columns) * header.height;
    this.context.drawImage(strip, x, y, header.width, header.height, 0, 0, header.width, header.height);
  }

  tick() {
    this.frame += 1;
    this.draw();
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  async onSucceeded() {
    this.finish();
    if (document.hidden && !document.title.startsWith("[")) {
      document.title = `✓ ${pageTitle}`;
      document.addEventListener("visibilitychange", showProgressInTitle, { once: true });
    }
    this.bar.style.width = "100%";
    this.setStatus("Done — saving to the gallery");
    const gallery = document.getElementById("gallery");
    if (gallery && window.htmx) {
      await window.htmx.ajax("GET", gallery.dataset.url, { target: "#gallery", swap: "outerHTML" });
      const clip = document.getElementById(`clip-${this.id}`);
      if (clip) {
        clip.classList.add("fresh");
        clip.querySelector("video")?.play().catch(() => {});
      }
    }
    this.card.remove();
  }

  // A failed clip says why, and offers its settings again instead of Cancel.
  onFailed(error) {
    this.finish();
    this.card.dataset.status = "failed";
    this.setStatus(error || "This clip failed.");
    this.card.querySelector("[data-role=cancel]")?.remove();
    const actions = this.card.querySelector("[data-role=failed-actions]");
    if (!actions || !actions.hidden) return;
    actions.hidden = false;
    actions.querySelector("[data-role=dismiss]").addEventListener("click", () => this.dismiss());
  }

  // The failed clip leaves the queue for the gallery, where it keeps its reason.
  async dismiss() {
    const gallery = document.getElementById("gallery");
    if (gallery?.dataset.url && window.htmx) {
      await window.htmx.ajax("GET", gallery.dataset.url, { target: "#gallery", swap: "outerHTML" });
    }
    this.card.remove();
  }

  finish() {
    this.finished = true;
    this.progressText = null;
    players.delete(this.id);
    showProgressInTitle();
    clipsChanged();
    if (this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
  }

  onClose(event) {
    if (this.finished) return;
    if (event.code >= 4000) {
      this.finished = true;
      this.progressText = null;
      players.delete(this.id);
      showProgressInTitle();
      this.setStatus(event.code === 4401 ? "Log in again to follow this clip." : "This clip is not available.");
      return;
    }
    // The server restarted or the network blinked: catch up through `state`.
    // A clip the stopping server was rendering is back in the queue by then.
    if (this.retries < RETRIES) {
      this.retries += 1;
      this.card.dataset.connection = "lost";
      this.setStatus("Connection lost — reconnecting…");
      setTimeout(() => this.connect(), Math.min(500 * this.retries, 5000));
    } else {
      this.setStatus("Lost the connection to the studio. Reload the page to follow this clip.");
    }
  }
}

function animate() {
  let last = 0;
  const loop = (now) => {
    if (now - last >= 1000 / 8) {
      last = now;
      for (const player of players.values()) player.tick();
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
}

function bindLiveCards(root) {
  for (const card of root.querySelectorAll("[data-live]")) {
    const id = card.dataset.generation;
    if (players.has(id) && players.get(id).card === card) continue;
    players.get(id)?.finish();
    players.set(id, new LivePreview(card));
  }
}

// The gallery: hover plays muted; the player opens in a dialog.
function bindGallery() {
  document.addEventListener("mouseover", (event) => {
    const media = event.target.closest?.(".clip-media");
    const video = media?.querySelector("video");
    if (!video || media.classList.contains("playing")) return;
    media.classList.add("playing");
    video.play().catch(() => {});
  });
  document.addEventListener("mouseout", (event) => {
    const media = event.target.closest?.(".clip-media");
    if (!media || media.contains(event.relatedTarget)) return;
    media.classList.remove("playing");
    media.querySelector("video")?.pause();
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "player-body") {
      const dialog = document.getElementById("player");
      if (!dialog.open) dialog.showModal();
    }
  });
  document.addEventListener("close", (event) => {
    if (event.target.id === "player") event.target.querySelector("#player-body").innerHTML = "";
  }, true);
  // ← and → step through the page's clips while the player is open
  // (captured first, so a focused video does not seek instead); S stars.
  document.addEventListener("keydown", (event) => {
    const dialog = document.getElementById("player");
    if (!dialog?.open || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest?.("input, textarea, select")) return;
    if (event.key === "s") {
      // The player's content may be only milliseconds old: let htmx take the
      // form first, so the star is an htmx request and the page stays put.
      const star = dialog.querySelector(".star-form");
      if (star) window.htmx?.process(star);
      star?.querySelector(".star")?.click();
      return;
    }
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    const current = dialog.querySelector("[data-generation]")?.dataset.generation;
    // A project's or the Clips page's gallery, or a gallery board.
    const links = [...document.querySelectorAll("#gallery .clip-media, #board .clip-media")];
    const index = current ? links.findIndex((link) => link.getAttribute("hx-get")?.includes(current)) : -1;
    const next = index < 0 ? null : links[index + (event.key === "ArrowRight" ? 1 : -1)];
    event.preventDefault();
    next?.click();
  }, true);
}

// ? lists the shortcuts; / jumps to the page's search box, or the prompt box.
function bindShortcuts() {
  const list = () => document.getElementById("shortcuts");
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
    if (document.querySelector("dialog[open]")) return;
    if (event.key === "?" && list()) {
      event.preventDefault();
      list().showModal();
    } else if (event.key === "/") {
      const box = document.querySelector("main input[type=search]") || document.getElementById("id_prompt");
      if (!box) return;
      event.preventDefault();
      box.focus();
      box.select?.();
    }
  });
  document.addEventListener("click", (event) => {
    if (event.target.closest?.("[data-action=shortcuts]")) list()?.showModal();
  });
}

// A star toggled in the player (or on a card) shows on every copy of it.
document.body.addEventListener("clip-starred", (event) => {
  const { id, starred } = event.detail;
  for (const form of document.querySelectorAll(`.star-form[data-generation="${id}"]`)) {
    const button = form.querySelector("button");
    button.classList.toggle("on", starred);
    button.setAttribute("aria-pressed", String(starred));
    button.setAttribute("aria-label", starred ? "Unstar this clip" : "Star this clip");
    button.title = starred ? "Starred: click to unstar" : "Star this clip";
    form.elements.starred.value = starred ? "0" : "1";
  }
});

// The prompt box itself (shortcuts, summary, the model's rules) is composer.js.
bindLiveCards(document);
document.addEventListener("htmx:load", (event) => bindLiveCards(event.detail.elt));
bindGallery();
bindShortcuts();
animate();
