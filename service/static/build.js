// Live updates for a build page: poll the JSON API until the build ends. Reading works without it.
(function () {
  "use strict";
  var el = document.getElementById("build");
  if (!el) { return; }
  var id = el.dataset.id;
  var terminal = ["success", "failed", "cancelled", "timed_out", "superseded", "skipped"];
  function done(status) { return terminal.indexOf(status) >= 0; }
  if (done(el.dataset.status)) { return; }
  var logEl = document.getElementById("log");
  function tick() {
    Promise.all([
      fetch("/api/builds/" + encodeURIComponent(id)).then(function (r) { return r.json(); }),
      fetch("/api/builds/" + encodeURIComponent(id) + "/log").then(function (r) { return r.text(); })
    ]).then(function (results) {
      var build = results[0];
      logEl.textContent = results[1];
      var status = document.getElementById("status");
      status.innerHTML = "";
      var badge = document.createElement("span");
      badge.className = "status status-" + build.status;
      badge.textContent = build.status.replace("_", " ");
      status.appendChild(badge);
      document.getElementById("digest").textContent = build.digest || "–";
      el.dataset.status = build.status;
      if (!done(build.status)) { setTimeout(tick, 1000); } else { window.location.reload(); }
    }).catch(function () { setTimeout(tick, 3000); });
  }
  setTimeout(tick, 1000);
})();
