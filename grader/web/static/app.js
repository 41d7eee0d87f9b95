// Backprop Grader: the pages' only script (no inline scripts: the Content-Security-Policy forbids them).
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

// fetch() with the CSRF token every state-changing call needs (Flask-WTF reads X-CSRFToken).
function postJSON(url, body) {
  return fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": csrfToken()},
    body: JSON.stringify(body || {}),
  });
}
window.grader = {postJSON: postJSON, csrfToken: csrfToken};

// Times: without a chosen zone, show them in the browser's, and tell the server (a cookie) for next time.
function localTimes() {
  let zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  // IANA names are cookie-safe as they are (the server reads the value unescaped)
  if (/^[A-Za-z0-9_+\-\/]+$/.test(zone) && !document.cookie.split("; ").includes("tz=" + zone)) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }
  if (document.body.dataset.tzChosen) return;
  // the page's language (the viewer's setting), not the browser's, so a page never mixes two languages; the
  // server's format (grader/web/timezones.py: the medium date, 24-hour time, the zone as UTC+8), so a page
  // never mixes two formats either
  const lang = document.documentElement.lang || undefined;
  const day = new Intl.DateTimeFormat(lang, {year: "numeric", month: "short", day: "numeric"});
  const time = new Intl.DateTimeFormat(lang, {hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    const when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) { el.textContent = day.format(when) + " " + time.format(when) + " " + zoneLabel(when); el.title = zone; }
  });
}

// "UTC+8", "UTC−3:30", "UTC": the browser's offset at that moment, as the server writes it
function zoneLabel(when) {
  const minutes = -when.getTimezoneOffset();
  if (minutes === 0) return "UTC";
  const hours = Math.floor(Math.abs(minutes) / 60), rest = Math.abs(minutes) % 60;
  return "UTC" + (minutes > 0 ? "+" : "\u2212") + hours + (rest ? ":" + String(rest).padStart(2, "0") : "");
}

// Upload: refuse what the server would refuse before sending it (the server checks again).
function uploadChecks() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const max = parseInt(form.dataset.maxBytes, 10);
  const box = document.getElementById("client-error");
  form.addEventListener("submit", function (event) {
    const input = form.querySelector('input[type="file"]');
    const file = input && input.files && input.files[0];
    let problem = "";
    const name = file ? file.name.toLowerCase() : "";
    const notebook = name.endsWith(".ipynb");  // its outputs may be large; the server counts its code cells
    if (file && !name.endsWith(".py") && !notebook) problem = form.dataset.wrongType;
    else if (file && file.size > (notebook ? parseInt(form.dataset.maxNotebookBytes, 10) : max)) problem = form.dataset.tooLarge;
    if (problem) {
      event.preventDefault();
      box.textContent = problem;
      box.classList.remove("hidden");
    }
  });
}

// A submission's page: ask for its status, the server answering as soon as it changes (a long poll: `known`
// is the status we show, `wait` how long the server may hold the answer), then show the results in place.
function liveStatus() {
  const live = document.getElementById("live");
  if (!live || live.dataset.status === "graded" || live.dataset.status === "failed") return;
  const url = live.dataset.statusUrl;
  const started = Date.now();
  let failures = 0;
  function poll() {
    const place = document.getElementById("queue-place");
    let ask = url + (url.indexOf("?") < 0 ? "?" : "&") + "wait=25&known=" + encodeURIComponent(live.dataset.status);
    if (place && place.dataset.place) ask += "&place=" + encodeURIComponent(place.dataset.place);
    fetch(ask, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        failures = 0;
        live.dataset.status = data.status;
        const badge = document.querySelector("#status .status");
        if (badge) {
          badge.textContent = data.status_label;
          badge.className = "status status-" + data.status;
        }
        if (place) {  // "3rd in the queue, about 2 s", until it starts
          place.textContent = data.queue_note || "";
          place.dataset.place = data.place || "";
          place.classList.toggle("hidden", !data.queue_note);
        }
        if (data.final) {
          const part = live.closest("[data-live-part]");
          if (part && live.dataset.partUrl) swapPart(part, live.dataset.partUrl, data);
          else showResults(data);
          return;
        }
        schedule(0);
      })
      .catch(function () { failures += 1; schedule(Math.min(1000 * failures, 10000)); });
  }
  function showResults(data) {
    document.getElementById("results").innerHTML = data.html || "";  // server-rendered, escaped
    const spinner = live.querySelector(".spinner");
    if (spinner) spinner.classList.add("hidden");
    const waiting = document.getElementById("waiting");
    if (waiting) waiting.remove();
  }
  // the staff page: more than the results changes (times, worker, the score's forms), so the server renders
  // that whole part again; if it does not answer, the results alone
  function swapPart(part, partUrl, data) {
    fetch(partUrl, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { part.outerHTML = html; localTimes(); })  // server-rendered, escaped
      .catch(function () { showResults(data); });
  }
  function schedule(delay) {
    if (Date.now() - started > 15 * 60 * 1000) return;  // give up after 15 minutes; a reload starts again
    setTimeout(poll, delay);
  }
  poll();
}

document.addEventListener("DOMContentLoaded", function () {
  localTimes();
  uploadChecks();
  liveStatus();
});
