// The share panel's Copy button: copies a new share link and says so, on the
// button and in a status region screen readers announce. The panel is
// swapped by htmx, so the page listens for its clicks.

function copied(button, message) {
  button.textContent = message;
  const status = button.parentElement.querySelector(".copy-status");
  if (status) status.textContent = message === "Copied" ? "Link copied to the clipboard." : "Select the link and press Ctrl+C to copy it.";
}

function selectLink(button) {
  const code = button.parentElement.querySelector("code");
  if (code) window.getSelection().selectAllChildren(code);
  copied(button, "Press Ctrl+C");
}

document.addEventListener("click", (event) => {
  const button = event.target.closest(".share-panel [data-copy]");
  if (!button) return;
  if (!navigator.clipboard) {
    selectLink(button);
    return;
  }
  navigator.clipboard.writeText(button.dataset.copy).then(
    () => copied(button, "Copied"),
    () => selectLink(button),
  );
});
