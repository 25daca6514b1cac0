// The flash message banner: after a message is acknowledged, keyboard focus goes to the next
// one's button, or to the page's content when none is left (the button that had it is gone).
document.addEventListener("htmx:afterSwap", (event) => {
  const banner = event.detail.target;
  if (!banner || banner.id !== "flash-banner" || event.detail.requestConfig.verb !== "post") {
    return;
  }
  const next = banner.querySelector("button");
  (next || document.getElementById("main")).focus();
});
