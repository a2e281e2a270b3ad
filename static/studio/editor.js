// The prompt editor: shot helpers that compose the text live, chips that
// insert characters, lists and styles, one-click coach fixes, and a draft
// that saves itself while the creator types.

const DRAFT_DELAY_MS = 800;

function promptField(form) {
  return form.elements.prompt || form.elements.text;
}

function changed(field) {
  field.dispatchEvent(new Event("input", { bubbles: true }));
}

function tidy(text) {
  return text
    .replace(/[ \t]{2,}/g, " ")
    .replace(/ +([,.;])/g, "$1")
    .replace(/([,.])(\s*[,.])+/g, "$1")
    .replace(/^[\s,.]+|[\s,]+$/g, "");
}

// The helpers' parts, in the order a video prompt reads best:
// subject and motion, camera, the beats over time, then look and pacing.
export function compose(parts) {
  const shot = [parts.subject, parts.action].filter(Boolean).join(" ");
  const beats = [];
  if (parts.opening) beats.push(`opening on ${parts.opening}`);
  if (parts.then) beats.push(`then ${parts.then}`);
  if (parts.finally) beats.push(`finally ${parts.finally}`);
  const sentences = [
    [shot, parts.camera].filter(Boolean).join(", "),
    beats.join(", "),
    [parts.style, parts.pacing].filter(Boolean).join(", "),
  ].filter(Boolean);
  return tidy(sentences.join(". "));
}

function insertAtCursor(field, text) {
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? field.value.length;
  const before = field.value.slice(0, start);
  const spacer = before && !/\s$/.test(before) ? " " : "";
  field.value = before + spacer + text + field.value.slice(end);
  const caret = (before + spacer + text).length;
  field.setSelectionRange(caret, caret);
  field.focus();
  changed(field);
}

function append(field, text) {
  const current = field.value.trim().replace(/[,.;]+$/, "");
  field.value = current ? `${current}, ${text}` : text;
  field.focus();
  changed(field);
}

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  } catch {
    return "";
  }
}

function bindEditor(editor) {
  if (editor.dataset.bound) return;
  editor.dataset.bound = "1";
  const form = editor.closest("form");
  const field = form && promptField(form);
  if (!field) return;

  const helpers = editor.querySelectorAll("[data-helper]");
  const fromHelpers = () => {
    const parts = {};
    for (const input of helpers) parts[input.dataset.helper] = input.value.trim();
    // The creator can still edit the text; the helpers rewrite it only when touched.
    field.value = compose(parts);
    changed(field);
  };
  for (const input of helpers) input.addEventListener("input", fromHelpers);

  editor.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.dataset.insert) insertAtCursor(field, button.dataset.insert);
    if (button.dataset.styleId) chooseLook(editor, button.dataset.styleId, button.dataset.look);
    if (button.hasAttribute("data-clear-look")) chooseLook(editor, "", "");
    if (button.dataset.append) {
      append(field, button.dataset.append);
      const negative = form.elements.negative_prompt;
      if (negative && button.dataset.negative && !negative.value.trim()) {
        negative.value = button.dataset.negative;
      }
    }
    if (button.dataset.fixText !== undefined) {
      field.value = button.dataset.fixText;
      field.focus();
      changed(field);
    }
  });

  // Ctrl+Enter generates (the project page) or saves (the library form).
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form.id !== "composer") {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  const draftUrl = editor.dataset.draftUrl;
  if (draftUrl) {
    let timer = null;
    field.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const body = new FormData();
        body.append("prompt", field.value);
        fetch(draftUrl, {
          method: "POST",
          body,
          headers: { "X-CSRFToken": csrfToken() },
          credentials: "same-origin",
        }).then((response) => {
          if (response.ok) editor.dataset.draftSaved = String(Date.now());
        });
      }, DRAFT_DELAY_MS);
    });
  }
}

// A style with a look grades the clip: the form carries the style's id,
// and the prompt box names the look until it is removed.
function chooseLook(editor, styleId, look) {
  const input = editor.querySelector("[data-role=style-id]");
  const shown = editor.querySelector("[data-role=look-chosen]");
  if (!input || !shown) return;
  input.value = styleId;
  shown.querySelector("[data-role=look-name]").textContent = look;
  shown.hidden = !styleId;
}

// "Try this" buttons (the reading's in-world suggestion) fill the prompt box.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-fill-prompt]");
  const form = button?.closest("form");
  const field = form && promptField(form);
  if (!field) return;
  field.value = button.dataset.fillPrompt;
  field.focus();
  changed(field);
});

function bind(root) {
  const editors = root.matches?.("[data-editor]")
    ? [root]
    : root.querySelectorAll?.("[data-editor]") || [];
  for (const editor of editors) bindEditor(editor);
}

bind(document);
document.addEventListener("htmx:load", (event) => bind(event.detail.elt));
