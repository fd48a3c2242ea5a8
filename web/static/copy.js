// Copy buttons: a button with data-copy="ID" copies the value (or text) of
// the element with that id. The buttons are hidden until this script runs,
// so that pages work without JavaScript. A button is set up once, however
// often the script is included, and always returns to its own label.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  if (button.dataset.copyReady) { return; }
  button.dataset.copyReady = "1";
  var label = button.textContent;
  var timer = 0;
  button.hidden = false;
  button.addEventListener("click", function () {
    var el = document.getElementById(button.dataset.copy);
    var text = button.dataset.copyValue || (el.value !== undefined ? el.value : el.innerText);
    var done = function () {
      button.textContent = "Copied";
      clearTimeout(timer);
      timer = setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      el.focus();
      if (el.select) { el.select(); } else { window.getSelection().selectAllChildren(el); }
      if (document.execCommand("copy")) { done(); }
    }
  });
});

// Print buttons: a button with data-print prints the page.
document.querySelectorAll("button[data-print]").forEach(function (button) {
  if (button.dataset.printReady) { return; }
  button.dataset.printReady = "1";
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
});
