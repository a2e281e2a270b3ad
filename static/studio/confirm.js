// Buttons and forms that ask before they act carry the question in
// data-confirm; the page's Content-Security-Policy allows no inline handlers.
// Listening on window in the capture phase answers before htmx or any other
// handler sees the submit, so a "Cancel" stops them all.
window.addEventListener(
  "submit",
  (event) => {
    const question = event.submitter?.dataset.confirm ?? event.target.dataset.confirm;
    if (question === undefined || window.confirm(question)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
  },
  true,
);
