// The Clips page: tick clips, then star, file or delete them together.

const bar = document.getElementById("bulk");

function picked() {
  return [...document.querySelectorAll("#gallery input[name=clip]:checked")];
}

function update() {
  if (!bar) return;
  const count = picked().length;
  bar.querySelector("[data-role=picked]").textContent = count
    ? `${count} clip${count === 1 ? "" : "s"} ticked`
    : "Tick clips to act on several at once.";
  for (const control of bar.querySelectorAll("button, select")) control.disabled = count === 0;
  const all = document.querySelector("#gallery [data-role=pick-all]");
  if (all) {
    const boxes = document.querySelectorAll("#gallery input[name=clip]");
    all.checked = count > 0 && count === boxes.length;
    all.indeterminate = count > 0 && count < boxes.length;
  }
}

document.addEventListener("change", (event) => {
  if (event.target.matches?.("#gallery [data-role=pick-all]")) {
    for (const box of document.querySelectorAll("#gallery input[name=clip]")) {
      box.checked = event.target.checked;
    }
  }
  if (event.target.closest?.("#gallery")) update();
});

// A download is a plain form post, so the browser saves the ZIP itself
// (htmx would try to swap it into the page).
bar?.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-native]");
  if (!button) return;
  event.preventDefault();
  const post = document.createElement("form");
  post.method = "post";
  post.action = bar.getAttribute("action"); // bar.action is its "action" buttons
  post.hidden = true;
  const fields = [...new FormData(bar).entries()].filter(([name]) => name !== "action");
  for (const [name, value] of [...fields, ["action", button.value]]) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    post.append(input);
  }
  document.body.append(post);
  post.submit();
  post.remove();
});

// The list comes back after every search and every action, unticked.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.detail.target.id === "gallery" || event.target.id === "gallery") update();
});

// The bar sticks just under the top bar, however many lines that wraps to.
const topbar = document.querySelector(".topbar");
if (topbar) {
  new ResizeObserver(() => {
    document.documentElement.style.setProperty("--topbar-height", `${topbar.offsetHeight}px`);
  }).observe(topbar);
}

update();
