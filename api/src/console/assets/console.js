// magflow console: live updates over /live (Server-Sent Events) and forms without a full
// reload. Every page works without this file; it only makes them nicer.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main) return;
  var lang = document.documentElement.lang;

  function num(n) {
    var sep = lang === "en" ? "," : ".";
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  }

  // Fetches `url` and puts its <main> in place of ours (after a form or a change a
  // partial update cannot show: a new run, a run that ended).
  function swap(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("main");
    if (!fresh) { window.location.assign(url); return; }
    main.innerHTML = fresh.innerHTML;
    main.dataset.live = fresh.dataset.live || "";
    document.title = doc.title;
    if (url && url !== window.location.href) history.replaceState(null, "", url);
    // A run may have changed while this page was being made (or the page came from the
    // server's one-second cache): read it again while a row is behind what /live said.
    var behind = Array.prototype.some.call(main.querySelectorAll("[data-run]"), function (el) {
      var s = latest[el.dataset.run];
      return s && s !== el.dataset.status;
    });
    if (!behind) retries = 0;
    else if (retries++ < 10) refresh();
  }
  var latest = {};
  var retries = 0;
  var pending = null;
  function refresh() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      fetch(window.location.href, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (t) { if (t) swap(t, null); })
        .catch(function () {});
    }, 400);
  }

  function update(run) {
    latest[run.id] = run.status;
    var rows = document.querySelectorAll('[data-run="' + run.id + '"]');
    if (!rows.length) {
      var lists = main.dataset.live === "overview" || main.dataset.live === "runs";
      if (lists && (run.status === "queued" || run.status === "running")) refresh();
      return;
    }
    var changed = false;
    rows.forEach(function (el) {
      if (el.dataset.status !== run.status) changed = true;
      var p = run.progress || {};
      var bar = el.querySelector('[data-field="bar"]');
      if (bar && p.total) { bar.max = p.total; bar.value = p.processed; }
      var counts = el.querySelector('[data-field="counts"]');
      if (counts) counts.textContent = num(p.processed) + (p.total ? " / " + num(p.total) : "");
      var rate = el.querySelector('[data-field="rate"]');
      if (rate) rate.textContent = run.status === "running" && p.throughput ? p.throughput.toFixed(1) + "/s" : "";
    });
    document.querySelectorAll("[data-counter]").forEach(function (dd) {
      if (main.dataset.live !== "run" || !rows.length) return;
      var v = (run.progress || {})[dd.dataset.counter];
      if (typeof v === "number") dd.textContent = num(v);
    });
    if (changed) refresh();
  }

  var source = null;
  function connect() {
    if (!window.EventSource || source) return;
    var runEl = main.dataset.live === "run" ? main.querySelector("[data-run]") : null;
    source = new EventSource("/live" + (runEl ? "?run=" + runEl.dataset.run : ""));
    source.addEventListener("progress", function (e) {
      try { update(JSON.parse(e.data).run); } catch (err) { /* a message we do not know */ }
    });
    source.addEventListener("log", function (e) {
      var ol = main.querySelector("[data-log]");
      if (!ol) return;
      try {
        var ev = JSON.parse(e.data).event;
        var li = document.createElement("li");
        li.className = "level-" + ev.level;
        li.textContent = ev.at + " " + ev.level + " " + ev.message;
        ol.appendChild(li);
      } catch (err) { /* ignore */ }
    });
    source.addEventListener("stale", refresh);
    // The browser connects again by itself after a drop; what changed meanwhile was not
    // sent, so the page is read again.
    var opened = false;
    source.addEventListener("open", function () {
      if (opened) refresh();
      opened = true;
    });
  }
  if (main.dataset.live) connect();
  // The overview's and the queues' figures (counts, health, depths) change without a run
  // changing on screen: they are read again every 5 s while in view.
  setInterval(function () {
    // Not while someone is using the page: a swap would take their focus away.
    var busy = main.contains(document.activeElement) || main.querySelector("details[open]");
    var polled = main.dataset.live === "overview" || main.dataset.live === "queues";
    if (polled && !document.hidden && !busy) refresh();
  }, 5000);

  // The schedule form's preview follows its fields.
  document.documentElement.classList.add("js");
  var previewTimer = null;
  function preview(form) {
    var fields = new FormData(form);
    fields.delete("csrf");
    fetch(form.dataset.preview + "?" + new URLSearchParams(fields), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (t) {
        var fresh = t && new DOMParser().parseFromString(t, "text/html").getElementById("preview");
        var old = document.getElementById("preview");
        if (fresh && old) old.replaceWith(fresh);
      })
      .catch(function () {});
  }
  function onEdit(e) {
    var form = e.target.form;
    if (!form || !form.dataset.preview) return;
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () { preview(form); }, 250);
  }
  main.addEventListener("input", onEdit);
  main.addEventListener("change", onEdit);

  // Forms inside the page post in the background and show the page that comes back.
  main.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.method !== "post" || form.hasAttribute("data-plain")) return;
    e.preventDefault();
    // Until the answer is in place (screen readers wait; so do the tests' clicks).
    main.setAttribute("aria-busy", "true");
    var body = new URLSearchParams(new FormData(form, e.submitter));
    fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) {
      return r.text().then(function (t) { swap(t, r.url); if (main.dataset.live) connect(); });
    }).catch(function () { form.submit(); })
      .then(function () { main.removeAttribute("aria-busy"); });
  });
})();
