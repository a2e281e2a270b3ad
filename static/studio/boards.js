// Galleries: drag a clip onto another to move it there (the arrow buttons do
// the same from the keyboard), and play both sides of a comparison together.

function dropPosition(target, event) {
  const box = target.getBoundingClientRect();
  const after = event.clientX > box.left + box.width / 2;
  return { after, position: Number(target.dataset.position) };
}

function clearMarks(board) {
  for (const card of board.querySelectorAll(".drop-before, .drop-after")) {
    card.classList.remove("drop-before", "drop-after");
  }
}

function bindBoard() {
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest?.(".board-item");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
  });
  document.addEventListener("dragend", () => {
    dragged?.classList.remove("dragging");
    const board = document.getElementById("board");
    if (board) clearMarks(board);
    dragged = null;
  });
  document.addEventListener("dragover", (event) => {
    const target = event.target.closest?.(".board-item");
    if (!dragged || !target || target === dragged) return;
    event.preventDefault();
    clearMarks(target.parentElement);
    const { after } = dropPosition(target, event);
    target.classList.add(after ? "drop-after" : "drop-before");
  });
  document.addEventListener("drop", (event) => {
    const target = event.target.closest?.(".board-item");
    if (!dragged || !target || target === dragged) return;
    event.preventDefault();
    const from = Number(dragged.dataset.position);
    let { after, position } = dropPosition(target, event);
    if (after) position += 1;
    // The item leaves its old place first, so later places shift down by one.
    if (from < position) position -= 1;
    const board = document.getElementById("board");
    const page = new URL(board.dataset.url, location.href).searchParams.get("page");
    window.htmx.ajax("POST", dragged.dataset.moveUrl, {
      target: "#board",
      swap: "outerHTML",
      values: { position, page },
    });
  });
}

function bindCompare() {
  document.addEventListener("click", (event) => {
    if (!event.target.closest?.("[data-action=play-both]")) return;
    for (const video of document.querySelectorAll("[data-compare] video")) {
      video.currentTime = 0;
      video.play().catch(() => {});
    }
  });
}

bindBoard();
bindCompare();
