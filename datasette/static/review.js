// The review page's keys: x confirms, b rejects, s skips — unless the reviewer is typing a
// note or holding a modifier (so the browser's own shortcuts keep working).
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT")) return;
  var button = document.querySelector('.verdict-form button[data-key="' + event.key.toLowerCase() + '"]');
  if (!button) return;
  event.preventDefault();
  button.click();
});
