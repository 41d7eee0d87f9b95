// Backprop Grader, staff pages: poll a running dry run until it finishes (no inline scripts: the CSP forbids them).
"use strict";

function dryRunStatus() {
  const box = document.getElementById("dry-run-result");
  if (!box || !box.dataset.statusUrl) return;
  if (box.dataset.status !== "queued" && box.dataset.status !== "running") return;
  const started = Date.now();
  let delay = 700;
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        box.dataset.status = data.status;
        if (data.final) {
          box.innerHTML = data.html || "";  // server-rendered, escaped
          return;
        }
        schedule();
      })
      .catch(function () { schedule(); });
  }
  function schedule() {
    if (Date.now() - started > 15 * 60 * 1000) return;
    delay = Math.min(delay * 1.3, 5000);
    setTimeout(poll, delay);
  }
  setTimeout(poll, 500);
}

// The dashboard's filter: a changed select submits the form (the button still works without this script).
function autoFilter() {
  const form = document.getElementById("filters");
  if (!form) return;
  form.querySelectorAll("select").forEach(function (el) {
    el.addEventListener("change", function () { form.submit(); });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  dryRunStatus();
  autoFilter();
});
