// Live updates for a build page: the log streamed by Server-Sent Events, status changes, and
// the finished page swapped in when the build ends. Reading works without this script.
(function () {
  "use strict";
  var el = document.getElementById("build");
  if (!el) { return; }
  var terminal = ["success", "failed", "cancelled", "timed_out", "superseded", "skipped"];
  function done(status) { return terminal.indexOf(status) >= 0; }
  if (done(el.dataset.status)) { return; }

  var logEl = document.getElementById("log");
  var stateEl = document.getElementById("live-state");
  function say(text) {
    if (!stateEl) { return; }
    stateEl.hidden = !text;
    stateEl.textContent = text;
  }
  function nearBottom() {
    var doc = document.documentElement;
    return window.innerHeight + window.scrollY >= doc.scrollHeight - 80;
  }
  function badge(status) {
    var span = document.createElement("span");
    span.className = "status status-" + status;
    span.textContent = status.replace("_", " ");
    return span;
  }
  function setText(id, text) {
    var node = document.getElementById(id);
    if (node) { node.textContent = text; }
  }

  // When the build ends: fetch this page again and swap its content in (no reload), so the
  // whole log shows as page text with the failing step highlighted, and Retry replaces Cancel.
  function showFinished(attempt) {
    say("Build ended; loading the full log…");
    fetch(window.location.pathname, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("build-view");
        var current = document.getElementById("build-view");
        var freshBuild = doc.getElementById("build");
        if (!fresh || !current) { throw new Error("no build view"); }
        if (freshBuild && !done(freshBuild.dataset.status) && attempt < 5) {
          setTimeout(function () { showFinished(attempt + 1); }, 1000);
          return;
        }
        current.replaceWith(document.importNode(fresh, true));
        document.title = doc.title;
      })
      .catch(function () {
        if (attempt < 5) { setTimeout(function () { showFinished(attempt + 1); }, 2000); }
        else { say("The build ended. Reload the page to see the full log."); }
      });
  }

  // On a status change while running: the facts and the timings table again from the server.
  function refreshFacts() {
    fetch(window.location.pathname, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error("HTTP " + r.status)); })
      .then(function (html) {
        if (ended) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["facts", "timings"].forEach(function (id) {
          var fresh = doc.getElementById(id);
          var current = document.getElementById(id);
          if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); }
        });
      })
      .catch(function () { /* the next status change or the end tries again */ });
  }

  function poll() {
    // Without EventSource (very old browsers): reload the page every few seconds.
    setTimeout(function () { window.location.reload(); }, 5000);
  }
  if (!window.EventSource || !window.fetch || !window.DOMParser) { poll(); return; }

  var url = el.dataset.events + "?after=" + encodeURIComponent(el.dataset.seq || "0");
  var source = new EventSource(url);
  var ended = false;
  say("Following the log live…");

  source.addEventListener("log", function (event) {
    var data = JSON.parse(event.data);
    var follow = nearBottom();
    logEl.appendChild(document.createTextNode(data.text));
    if (follow) { window.scrollTo(0, document.documentElement.scrollHeight); }
  });
  source.addEventListener("status", function (event) {
    var data = JSON.parse(event.data);
    el.dataset.status = data.status;
    var statusEl = document.getElementById("status");
    if (statusEl) {
      statusEl.textContent = "";
      statusEl.appendChild(badge(data.status));
    }
    setText("phase", data.phase);
    if (data.digest) { setText("digest", data.digest); }
    document.title = data.status.replace("_", " ") + " · " + document.title.replace(/^[^·]*· /, "");
    if (!done(data.status)) { refreshFacts(); }
  });
  source.addEventListener("end", function () {
    ended = true;
    source.close();
    showFinished(0);
  });
  source.addEventListener("error", function () {
    if (ended) { return; }
    if (source.readyState === EventSource.CLOSED) {
      // The server refused the stream (e.g. logged out): fall back to reloading.
      say("Live updates stopped; reloading…");
      poll();
    } else {
      say("Reconnecting to the live log…");
    }
  });
  source.addEventListener("open", function () { say("Following the log live…"); });
})();
