// The prompt box follows the chosen model. What each model can make (its
// frame rule, frame rates, sizes, ranges, defaults and inputs) is embedded in
// the page as JSON (#model-capabilities), as GET /api/models reports it, with
// the presets the box offers for it. The server maps the same settings with
// the same rules (studio/generations/forms.py), so what the box offers is
// what the studio queues.

const SIZE_NAMES = { 64: "Tiny", 128: "Small", 256: "Medium", 512: "Large" };
const SETTINGS_OPEN = "studio.settings.open";

function readModels() {
  const block = document.getElementById("model-capabilities");
  try {
    return JSON.parse(block?.textContent || "{}") || {};
  } catch {
    return {};
  }
}

// The frame count the model makes nearest to `target` (the larger on a tie),
// as the engine's FrameRule.nearest chooses it.
export function nearestFrames(frames, target) {
  let best = frames.min;
  for (let n = frames.min; n <= frames.max; n += frames.step) {
    const gap = Math.abs(n - target);
    const bestGap = Math.abs(best - target);
    if (gap < bestGap || (gap === bestGap && n > best)) best = n;
  }
  return best;
}

// The side a frame of short side `side` is drawn at when the model draws less
// detail than that and enlarges its frame (0: drawn at its size).
export function enlargedFrom(caps, side) {
  const detail = caps?.size?.detail;
  return detail && side > detail ? detail : 0;
}

// Seconds as the duration input shows them: three decimals at most.
export function formatSeconds(value) {
  return String(Math.round(value * 1000) / 1000);
}

function shortSeconds(value) {
  return String(Math.round(value * 100) / 100);
}

function show(element, visible) {
  const cell = element?.closest(".field");
  if (!cell) return;
  cell.hidden = !visible;
  // A hidden input sends nothing: a start image stays out of a text model's clip.
  element.disabled = !visible;
  if (!visible && element.type === "file") element.value = "";
}

function setRange(input, range) {
  if (!input || !range) return;
  input.min = String(range.min);
  input.max = String(range.max);
}

function clampInto(input, range) {
  const value = Number(input.value);
  if (input.value === "" || Number.isNaN(value)) return;
  if (value < range.min) input.value = String(range.min);
  if (value > range.max) input.value = String(range.max);
}

class Composer {
  constructor(form, models) {
    this.form = form;
    this.models = models;
    this.elements = form.elements;
  }

  get caps() {
    return this.models[this.elements.model?.value] || null;
  }

  // Frames the clip will have, from what the duration and rate say now.
  frames() {
    const caps = this.caps;
    const fps = Number(this.elements.fps.value);
    const seconds = Number(this.elements.duration.value);
    if (!caps || !fps || !(seconds > 0)) return null;
    return nearestFrames(caps.frames, seconds * fps);
  }

  frameSize() {
    const caps = this.caps;
    const aspect = this.elements.aspect.value;
    const side = Number(this.elements.size.value);
    const entry = caps?.presets.sizes[aspect]?.find((item) => item[0] === side);
    return entry ? [entry[1], entry[2]] : null;
  }

  // The model select changed (fill = true) or the box opened (fill = false):
  // offer what the model makes; fill in its defaults when it was chosen.
  apply(fill) {
    const caps = this.caps;
    if (!caps) return;
    const { elements } = this;
    this.offerRates(caps, fill);
    this.offerAspects(caps, fill);
    this.offerSizes(caps, fill);
    setRange(elements.steps, caps.steps);
    setRange(elements.guidance, caps.guidance);
    if (fill) {
      elements.steps.value = String(caps.steps.default);
      elements.guidance.value = String(caps.guidance.default);
      elements.negative_prompt.value = caps.negative_prompt;
    } else {
      clampInto(elements.steps, caps.steps);
      clampInto(elements.guidance, caps.guidance);
    }
    show(elements.negative_prompt, caps.presets.takes_negative_prompt);
    show(elements.image, caps.inputs.image);
    show(elements.video, caps.inputs.video);
    const strength = caps.inputs.strength;
    show(elements.strength, Boolean(strength));
    if (strength) {
      setRange(elements.strength, strength);
      if (fill || elements.strength.value === "") {
        elements.strength.value = String(strength.default);
      }
    }
    this.snapDuration();
  }

  offerRates(caps, fill) {
    const select = this.elements.fps;
    const rates = caps.presets.fps;
    for (const option of select.options) {
      const offered = rates.includes(Number(option.value));
      option.hidden = !offered;
      option.disabled = !offered;
    }
    if (fill || !rates.includes(Number(select.value))) {
      select.value = String(caps.fps.default);
    }
  }

  offerAspects(caps, fill) {
    const select = this.elements.aspect;
    const native = [...select.options].find((option) => option.value === "native");
    if (native) native.title = `${caps.label}'s own frame: ${caps.size.default_width}×${caps.size.default_height}`;
    for (const option of select.options) {
      const offered = (caps.presets.sizes[option.value] || []).length > 0;
      option.hidden = !offered;
      option.disabled = !offered;
    }
    if (fill || select.selectedOptions[0]?.disabled) select.value = "native";
  }

  offerSizes(caps, fill) {
    const select = this.elements.size;
    const sizes = caps.presets.sizes[this.elements.aspect.value] || [];
    const sides = sizes.map((item) => item[0]);
    for (const option of select.options) {
      const entry = sizes.find((item) => item[0] === Number(option.value));
      option.hidden = !entry;
      option.disabled = !entry;
      if (!entry) continue;
      const side = entry[0];
      const name = side === caps.presets.default_short_side ? "Default" : SIZE_NAMES[side];
      const enlarged = enlargedFrom(caps, side);
      option.textContent =
        `${name ? `${name} · ` : ""}${entry[1]}×${entry[2]}` +
        (enlarged ? ` · enlarged from ${enlarged} px` : "");
    }
    const current = Number(select.value);
    if (fill && sides.includes(caps.presets.default_short_side)) {
      select.value = String(caps.presets.default_short_side);
    } else if (!sides.includes(current) && sides.length) {
      // The offered side closest to the one chosen before.
      const closest = sides.reduce((a, b) => (Math.abs(b - current) < Math.abs(a - current) ? b : a));
      select.value = String(closest);
    }
  }

  // The shortest and longest clip the model makes at the chosen rate, in seconds.
  durationBounds() {
    const caps = this.caps;
    const fps = Number(this.elements.fps.value);
    if (!caps || !fps) return null;
    const min = nearestFrames(caps.frames, 0);
    const max = nearestFrames(caps.frames, Number.MAX_SAFE_INTEGER);
    return { min: min / fps, max: max / fps, minFrames: min, maxFrames: max, fps };
  }

  // What the typed duration asks for that the model cannot make, or "".
  durationProblem() {
    const bounds = this.durationBounds();
    const typed = Number(this.elements.duration.value);
    if (!bounds || !(typed > 0)) return "";
    const label = this.caps.label;
    const half = 0.5 / bounds.fps;
    if (typed > bounds.max + half) {
      return `${shortSeconds(typed)} s is longer than ${label} makes at ${bounds.fps} fps: at most ${shortSeconds(bounds.max)} s (${bounds.maxFrames} frames). The clip will be ${shortSeconds(bounds.max)} s.`;
    }
    if (typed < bounds.min - half) {
      return `${shortSeconds(typed)} s is shorter than ${label} makes at ${bounds.fps} fps: at least ${shortSeconds(bounds.min)} s (${bounds.minFrames} frames). The clip will be ${shortSeconds(bounds.min)} s.`;
    }
    return "";
  }

  // The duration input takes only what the model makes at this rate.
  boundDuration() {
    const bounds = this.durationBounds();
    const input = this.elements.duration;
    if (!bounds || !input) return;
    input.min = formatSeconds(bounds.min);
    input.max = formatSeconds(bounds.max);
  }

  // The duration input shows the length of the clip that will be made.
  snapDuration() {
    this.boundDuration();
    const problem = this.durationProblem();
    const frames = this.frames();
    if (frames === null) return;
    const fps = Number(this.elements.fps.value);
    this.elements.duration.value = formatSeconds(frames / fps);
    // Said once more after the snap: the creator typed something else.
    this.adjusted = problem ? problem.replace(/ The clip will be .*$/, "") : "";
    this.describe();
  }

  describe() {
    const { elements, form } = this;
    const caps = this.caps;
    const fps = Number(elements.fps.value);
    const frames = this.frames();
    const size = this.frameSize();
    const note = form.querySelector("[data-role=frames]");
    const badge = form.querySelector("[data-role=frames-badge]");
    let text = "";
    if (caps && frames !== null) {
      text = `${frames} frames · ${shortSeconds(frames / fps)} s at ${fps} fps`;
      if (size) text += ` · ${size[0]}×${size[1]}`;
      form.dataset.frames = String(frames);
    } else if (caps) {
      text = "Give the clip a duration in seconds.";
      delete form.dataset.frames;
    }
    const problem = this.durationProblem();
    if (problem) {
      text = problem;
    } else if (this.adjusted) {
      text = `${text} — adjusted: ${this.adjusted}`;
    }
    this.setDurationState(Boolean(problem));
    if (note) {
      let rule = "";
      if (caps && caps.frames.step > 1) {
        rule = ` — ${caps.label} makes ${caps.frames.step}k+${caps.frames.offset} frames`;
      }
      note.textContent = text + rule;
      note.classList.toggle("warn-text", Boolean(problem));
    }
    if (badge) badge.textContent = text;
    // The folded settings in one line (the server writes the first one).
    const summary = form.querySelector("[data-role=summary]");
    if (summary && caps && frames !== null) {
      const drawnAt = size ? enlargedFrom(caps, Math.min(size[0], size[1])) : 0;
      summary.textContent = [
        caps.label,
        `${shortSeconds(frames / fps)} s at ${fps} fps`,
        size ? `${size[0]}×${size[1]}` : "",
        drawnAt ? `drawn at ${drawnAt} px, enlarged` : "",
        elements.steps.value ? `${elements.steps.value} steps` : "",
        `seed ${elements.seed.value || "random"}`,
      ]
        .filter(Boolean)
        .join(" · ");
    }
  }

  // The settings stay folded or open as the creator left them, across clips
  // and visits; one that stopped a clip opens them (the server says so).
  rememberSettings() {
    const details = this.form.querySelector("details.settings");
    if (!details) return;
    let stored = null;
    try {
      stored = localStorage.getItem(SETTINGS_OPEN);
    } catch {
      // Storage refused: the settings start folded.
    }
    if (stored === "1") details.open = true;
    details.addEventListener("toggle", () => {
      try {
        localStorage.setItem(SETTINGS_OPEN, details.open ? "1" : "0");
      } catch {
        // Nothing to remember with.
      }
    });
  }

  setDurationState(invalid) {
    const input = this.elements.duration;
    if (!input) return;
    if (invalid) {
      input.setAttribute("aria-invalid", "true");
    } else if (!input.closest(".field")?.querySelector(".errorlist")) {
      input.removeAttribute("aria-invalid");
    }
  }

  // A field the server sent back with an error loses it once the field holds
  // what the error asked for: a prompt that is no longer empty, a duration
  // the model makes. The summary above the Generate button follows.
  clearError(field) {
    const id = field.id;
    if (!id) return;
    document.getElementById(`${id}_error`)?.remove();
    field.removeAttribute("aria-invalid");
    const summary = this.form.querySelector("[data-role=errors]");
    if (!summary) return;
    for (const link of summary.querySelectorAll(`a[href="#${id}"]`)) link.closest("li")?.remove();
    const left = summary.querySelectorAll("li").length;
    if (left === 0) {
      summary.hidden = true;
      summary.replaceChildren();
    } else {
      const heading = summary.querySelector("strong");
      if (heading) heading.textContent = left === 1 ? "Not queued:" : `Not queued — ${left} things to fix:`;
    }
  }

  watchErrors() {
    const { prompt, duration } = this.elements;
    prompt?.addEventListener("input", () => {
      if (prompt.value.trim()) this.clearError(prompt);
    });
    duration?.addEventListener("change", () => {
      if (!this.durationProblem()) this.clearError(duration);
    });
  }

  bind() {
    const { form, elements } = this;
    this.watchErrors();
    this.rememberSettings();
    elements.model?.addEventListener("change", () => this.apply(true));
    elements.fps.addEventListener("change", () => {
      this.adjusted = "";
      this.snapDuration();
    });
    // Typing again: what was adjusted before is no longer the news.
    elements.duration.addEventListener("input", () => {
      this.adjusted = "";
    });
    elements.duration.addEventListener("change", () => this.snapDuration());
    elements.aspect.addEventListener("change", () => {
      if (this.caps) this.offerSizes(this.caps, false);
      this.describe();
    });
    form.addEventListener("input", () => this.describe());
    form.addEventListener("change", () => this.describe());
    form.querySelector("[data-action=random-seed]")?.addEventListener("click", () => {
      elements.seed.value = "";
      this.describe();
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    // Before htmx reads the form: a duration still being typed is sent as the
    // clip it makes.
    form.addEventListener("submit", () => this.snapDuration(), true);
    this.apply(false);
    this.boundDuration();
    this.describe();
  }
}

// A suggested prompt (the welcome's, an empty project's) fills the prompt box
// in one click, ready for Ctrl + Enter.
document.addEventListener("click", (event) => {
  const button = event.target.closest?.("[data-fill-prompt]");
  const field = document.querySelector("#composer textarea[name=prompt]");
  if (!button || !field) return;
  field.value = button.dataset.fillPrompt;
  field.dispatchEvent(new Event("input", { bubbles: true }));
  field.focus();
  field.setSelectionRange(field.value.length, field.value.length);
});

function bindComposer(root) {
  const form = root.id === "composer" ? root : root.querySelector?.("#composer");
  if (!form || form.dataset.bound) return;
  new Composer(form, readModels()).bind();
  form.dataset.bound = "1";
}

// A welcome link's ?try=N has filled the box: a reload keeps what the
// creator typed since (the draft), not the suggestion again.
if (new URLSearchParams(location.search).has("try")) {
  const url = new URL(location.href);
  url.searchParams.delete("try");
  history.replaceState(history.state, "", url);
}

bindComposer(document);

// Back to the project page from the browser's page cache: the gallery may
// have changed since (a clip finished), so it is fetched again.
window.addEventListener("pageshow", (event) => {
  const gallery = document.getElementById("gallery");
  if (!event.persisted || !gallery?.dataset.url || !window.htmx) return;
  window.htmx.ajax("GET", gallery.dataset.url, { target: "#gallery", swap: "outerHTML" });
});
document.addEventListener("htmx:load", (event) => bindComposer(event.detail.elt));
