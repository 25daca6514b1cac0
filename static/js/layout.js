// The header's menus and the tables of narrow screens. Everything works without this file:
// menus open and close as <details> do, and tables scroll sideways on a phone.
(() => {
  const groups = () => document.querySelectorAll("details.nav-group, details.menu");

  // One menu open at a time; a click elsewhere or Escape closes them.
  document.addEventListener("toggle", (event) => {
    const opened = event.target;
    if (!(opened instanceof HTMLDetailsElement) || !opened.open) return;
    if (!opened.matches("details.nav-group, details.menu")) return;
    for (const other of groups()) {
      if (other !== opened && !other.contains(opened)) other.open = false;
    }
  }, true);
  document.addEventListener("click", (event) => {
    for (const open of groups()) {
      if (open.open && !open.contains(event.target)) open.open = false;
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const open of groups()) {
      if (open.open) {
        open.open = false;
        open.querySelector("summary").focus();
      }
    }
  });

  // Each cell takes its column's heading; a table wider than its place shows its rows as cards.
  const label = (table) => {
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, index) => {
        if (cell.colSpan > 1) return; // a row saying the list is empty
        if (!cell.hasAttribute("data-label") && headings[index] !== undefined) {
          cell.setAttribute("data-label", headings[index]);
        }
      });
    }
    table.classList.add("labelled");
  };
  const fit = () => {
    for (const table of document.querySelectorAll("main table")) {
      if (!table.classList.contains("labelled")) label(table);
      table.classList.remove("cards");
      // Its place: its parent's width, and never past the right edge of the screen.
      const screen = document.documentElement.clientWidth - table.getBoundingClientRect().left;
      const room = Math.min(table.parentElement.clientWidth, screen);
      if (table.offsetWidth > room + 1 || table.scrollWidth > room + 1) table.classList.add("cards");
    }
  };
  let pending = null;
  document.addEventListener("DOMContentLoaded", fit);
  document.addEventListener("htmx:afterSettle", fit);
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(fit);
  });
})();
