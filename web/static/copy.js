// Copy buttons: a button with data-copy="ID" copies the value (or text) of
// the element with that id. The buttons are hidden until this script runs,
// so that pages work without JavaScript.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    var el = document.getElementById(button.dataset.copy);
    var text = el.value !== undefined ? el.value : el.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
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
