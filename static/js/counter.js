// Keeps the server-rendered counter live. The page is complete without this script.
// It polls the counter API, slows down when the API fails, stops while the tab is hidden,
// and tells screen readers about the count at most once a minute.
(function () {
  "use strict";

  var counter = document.querySelector("[data-counter-api]");
  if (!counter || !window.fetch) {
    return;
  }
  var api = counter.getAttribute("data-counter-api");
  var figure = counter.querySelector("[data-counter-count]");
  var goal = counter.querySelector("[data-counter-goal]");
  var paper = counter.querySelector("[data-counter-paper]");
  var bar = counter.querySelector("progress");
  var status = counter.querySelector("[data-counter-status]");
  var template = status ? status.getAttribute("data-template") : "";
  var format = new Intl.NumberFormat(document.documentElement.lang || undefined);

  var BASE_DELAY = 5000;
  var MAX_DELAY = 120000;
  var ANNOUNCE_EVERY = 60000;
  var delay = BASE_DELAY;
  var timer = null;
  var shown = null;
  var lastAnnounced = 0;
  var etag = null;

  function show(data) {
    // Each web process keeps the count for a second, so two polls may be answered by
    // processes a few confirmations apart: never step back to the older of the two.
    if (shown !== null && data.signature_count <= shown) {
      return;
    }
    shown = data.signature_count;
    figure.textContent = format.format(data.signature_count);
    if (goal) {
      goal.textContent = format.format(data.goal);
    }
    if (paper && typeof data.paper_count === "number") {
      paper.textContent = format.format(data.paper_count);
    }
    if (bar) {
      bar.max = data.goal;
      bar.value = Math.min(data.signature_count, data.goal);
    }
    var now = Date.now();
    if (status && template && now - lastAnnounced >= ANNOUNCE_EVERY) {
      lastAnnounced = now;
      status.textContent = template.replace("{count}", format.format(data.signature_count));
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (!document.hidden) {
      timer = setTimeout(poll, delay);
    }
  }

  function poll() {
    var headers = etag ? { "If-None-Match": etag } : {};
    fetch(api, { headers: headers, credentials: "omit" })
      .then(function (response) {
        if (response.status === 304) {
          return null;
        }
        if (!response.ok) {
          throw new Error("counter API answered " + response.status);
        }
        etag = response.headers.get("ETag");
        return response.json();
      })
      .then(function (data) {
        if (data) {
          show(data);
        }
        delay = BASE_DELAY;
      })
      .catch(function () {
        delay = Math.min(delay * 2, MAX_DELAY);
      })
      .then(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
    } else {
      delay = BASE_DELAY;
      poll();
    }
  });

  shown = Number(counter.getAttribute("data-counter-value")) || null;
  lastAnnounced = Date.now();
  schedule();
})();
