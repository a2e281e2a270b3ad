// The Sound panel: Preview plays the sound in the page instead of opening the
// WAV in a new tab, and the summary says whether sound is on. Without this
// script the panel's fields still post with the form and Preview still opens.

function panelOf(element) {
  return element.closest("[data-sound-panel]");
}

function say(panel, text) {
  const status = panel.querySelector("[data-role=sound-status]");
  if (status) status.textContent = text;
}

async function preview(button) {
  const panel = panelOf(button);
  const form = button.form;
  if (!panel || !form) return;
  const body = new FormData(form);
  // Uploads are the clip's business, not the preview's.
  for (const [name, value] of [...body.entries()]) {
    if (value instanceof File) body.delete(name);
  }
  const player = panel.querySelector("[data-role=sound-player]");
  button.disabled = true;
  say(panel, "Making the preview…");
  try {
    const answer = await fetch(button.formAction, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    });
    if (!answer.ok) {
      say(panel, (await answer.text()) || "The preview could not be made.");
      return;
    }
    const { url } = await answer.json();
    player.src = url;
    player.hidden = false;
    say(panel, "Preview ready.");
    try {
      await player.play();
    } catch {
      // A browser that will not start sound by itself: the controls are there.
    }
  } catch {
    say(panel, "The preview could not be fetched; check the connection.");
  } finally {
    button.disabled = false;
  }
}

// Capture: ahead of htmx, which would otherwise post the whole form.
document.addEventListener(
  "click",
  (event) => {
    const button = event.target.closest("[data-action=sound-preview]");
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    preview(button);
  },
  true,
);

document.addEventListener("change", (event) => {
  const panel = panelOf(event.target);
  if (!panel || event.target.name !== "sound") return;
  const summary = panel.querySelector("[data-role=sound-summary]");
  if (summary) summary.textContent = event.target.checked ? "on" : "off";
});
