// The storyboard page: reorder shots by drag and drop or Alt+Up/Down.
// The shared cut: when a shot without choices ends, play the next one.

function csrfHeaders() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
  } catch {
    return {};
  }
}

async function saveOrder(board) {
  const body = new URLSearchParams();
  for (const shot of board.querySelectorAll(".shot[data-shot]")) body.append("shot", shot.dataset.shot);
  const response = await fetch(board.dataset.reorderUrl, {
    method: "POST",
    headers: { ...csrfHeaders(), "HX-Request": "true" },
    body,
  });
  if (window.htmx) {
    window.htmx.ajax("GET", board.dataset.url, { target: "#gallery", swap: "outerHTML" });
  } else if (!response.ok) {
    location.reload();
  }
}

function bindBoard() {
  let dragged = null;
  document.addEventListener("dragstart", (event) => {
    const shot = event.target.closest?.(".shot[data-shot]");
    if (!shot) return;
    dragged = shot;
    shot.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", shot.dataset.shot);
  });
  document.addEventListener("dragover", (event) => {
    const over = event.target.closest?.(".shot[data-shot]");
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();
    for (const shot of document.querySelectorAll(".drop-before")) shot.classList.remove("drop-before");
    over.classList.add("drop-before");
  });
  document.addEventListener("drop", (event) => {
    const over = event.target.closest?.(".shot[data-shot]");
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();
    const list = over.parentElement;
    const items = [...list.children];
    // Dropping on a later shot puts the dragged one after it, on an earlier one before.
    if (items.indexOf(dragged) < items.indexOf(over)) over.after(dragged);
    else over.before(dragged);
    saveOrder(list.closest("#gallery"));
  });
  document.addEventListener("dragend", () => {
    dragged?.classList.remove("dragging");
    dragged = null;
    for (const shot of document.querySelectorAll(".drop-before")) shot.classList.remove("drop-before");
  });
  document.addEventListener("keydown", (event) => {
    const shot = event.target.closest?.(".shot[data-shot]");
    if (!shot || event.target !== shot || !event.altKey) return;
    const move = { ArrowUp: "up", ArrowDown: "down" }[event.key];
    if (!move) return;
    event.preventDefault();
    const id = shot.dataset.shot;
    shot.querySelector(`[data-move=${move}]`)?.click();
    // Keep the keyboard on the moved shot once the board is swapped back in.
    document.addEventListener("htmx:afterSettle", () => document.getElementById(`shot-${id}`)?.focus(), { once: true });
  });
}

function bindSharedCut() {
  const video = document.querySelector(".shared-video[data-next]");
  if (!video || !video.dataset.next) return;
  video.addEventListener("ended", () => {
    location.search = video.dataset.next;
  });
}

bindBoard();
bindSharedCut();
