// The prompt box follows the chosen model. What each model can make (its
// frame rule, frame rates, sizes, ranges, defaults and inputs) is embedded in
// the page as JSON (#model-capabilities), as GET /api/models reports it, with
// the presets the box offers for it. The server maps the same settings with
// the same rules (studio/generations/forms.py), so what the box offers is
// what the studio queues.

const SIZE_NAMES = { 64: "Tiny", 128: "Small", 256: "Medium", 512: "Large" };

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
      option.textContent = `${name ? `${name} · ` : ""}${entry[1]}×${entry[2]}`;
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

  // The duration input shows the length of the clip that will be made.
  snapDuration() {
    const frames = this.frames();
    if (frames === null) return;
    const fps = Number(this.elements.fps.value);
    this.elements.duration.value = formatSeconds(frames / fps);
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
    if (note) {
      let rule = "";
      if (caps && caps.frames.step > 1) {
        rule = ` — ${caps.label} makes ${caps.frames.step}k+${caps.frames.offset} frames`;
      }
      note.textContent = text + rule;
    }
    if (badge) badge.textContent = text;
    const summary = form.querySelector("[data-role=summary]");
    if (summary && frames !== null) {
      const seed = elements.seed.value ? `seed ${elements.seed.value}` : "random seed";
      const frame = size ? `${size[0]}×${size[1]}` : "";
      summary.textContent = [
        `${frames} frames`,
        `${fps} fps`,
        frame,
        `${elements.steps.value} steps`,
        seed,
      ]
        .filter(Boolean)
        .join(" · ");
    }
  }

  bind() {
    const { form, elements } = this;
    elements.model?.addEventListener("change", () => this.apply(true));
    elements.fps.addEventListener("change", () => this.snapDuration());
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
    this.describe();
  }
}

function bindComposer(root) {
  const form = root.id === "composer" ? root : root.querySelector?.("#composer");
  if (!form || form.dataset.bound) return;
  new Composer(form, readModels()).bind();
  form.dataset.bound = "1";
}

bindComposer(document);
document.addEventListener("htmx:load", (event) => bindComposer(event.detail.elt));
