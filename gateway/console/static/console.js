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
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () {});
    } else {
      document.execCommand("copy");
      done();
    }
    return;
  }
  if (target.closest("button.print")) window.print();
});
