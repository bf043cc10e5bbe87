// Hygie console: the few behaviours that need a script (no inline script: the CSP forbids it).
"use strict";
document.addEventListener("click", function (event) {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return;
  const copy = target.closest("button.copy");
  if (copy) {
    const field = document.getElementById(copy.dataset.copy || "");
    if (!field) return;
    field.select();
    const done = function () {
      const note = copy.parentElement && copy.parentElement.querySelector(".copied");
      if (note) note.hidden = false;
    };
    // The selected field is the fallback: the clipboard API may be refused (no permission).
    const fallback = function () {
      document.execCommand("copy");
      done();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, fallback);
    } else {
      fallback();
    }
    return;
  }
  if (target.closest("button.print")) window.print();
});
