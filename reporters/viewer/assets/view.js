// aieval view: the run list, one run's grid, two runs side by side. Every
// text goes in with textContent (aieval.el); the server sends JSON only.
(function () {
  "use strict";
  var el = aieval.el;
  var app = document.getElementById("app");
  var crumbs = document.getElementById("crumbs");
  var STATUSES = ["all", "pass", "fail", "error", "skip"];
  var KINDS = ["regression", "score_drop", "changed", "within_noise", "fixed", "score_rise", "new", "removed", "unchanged"];

  function get(url) {
    return fetch(url).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) { throw new Error(j.error || r.statusText); }
        return j;
      });
    });
  }

  function money(x) { return "$" + (x || 0).toFixed(4); }
  function ms(x) { return x >= 1000 ? (x / 1000).toFixed(2) + "s" : Math.round(x || 0) + "ms"; }
  function when(s) {
    if (!s || s.indexOf("0001-") === 0) { return ""; }
    return s.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC");
  }
  function git(r) { return [r.git_ref || "", (r.git_sha || "").slice(0, 12)].join(" ").trim(); }
  function link(href, text) { var a = el("a", "", text); a.href = href; return a; }
  function td(text, cls) { return el("td", cls || "", text === undefined ? "" : String(text)); }
  function badge(status) { return el("span", "badge " + (status || "unknown"), status || "unknown"); }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function say(err) { clear(app); app.appendChild(el("p", "error", String(err.message || err))); }
  function title(r) { return r.run_id ? r.label + " · " + r.run_id : r.label; }

  function setCrumbs(parts) {
    clear(crumbs);
    parts.forEach(function (p, i) {
      if (i > 0) { crumbs.appendChild(document.createTextNode(" › ")); }
      crumbs.appendChild(p.href ? link(p.href, p.text) : el("span", "", p.text));
    });
  }

  // filterBar draws the text filter and one button per status (or kind);
  // onChange gets (status, query).
  function filterBar(statuses, placeholder, onChange) {
    var nav = el("nav", "filters");
    var input = el("input");
    input.id = "filter";
    input.type = "search";
    input.placeholder = placeholder;
    input.autocomplete = "off";
    nav.appendChild(input);
    var status = "all";
    var buttons = statuses.map(function (s) {
      var b = el("button", "status-filter", s.replace("_", " "));
      b.type = "button";
      b.dataset.status = s;
      b.setAttribute("aria-pressed", String(s === "all"));
      b.addEventListener("click", function () {
        status = s;
        buttons.forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
        onChange(status, input.value.trim().toLowerCase());
      });
      nav.appendChild(b);
      return b;
    });
    input.addEventListener("input", function () { onChange(status, input.value.trim().toLowerCase()); });
    var shown = el("span", "shown");
    var n = el("b");
    n.id = "shown";
    shown.appendChild(n);
    shown.appendChild(document.createTextNode(" shown"));
    nav.appendChild(shown);
    return { nav: nav, shown: n };
  }

  // applyFilter hides rows (and their open detail rows) that do not match.
  function applyFilter(rows, status, q, shown) {
    var n = 0;
    rows.forEach(function (row) {
      var ok = aieval.matches(row, status, q);
      row.hidden = !ok;
      if (row.detail) { row.detail.hidden = !ok || !row.detail.open; }
      if (ok) { n++; }
    });
    shown.textContent = String(n);
  }

  // ---- the run list ----

  function runsView() {
    setCrumbs([{ text: "Runs" }]);
    get("/api/runs").then(function (runs) {
      clear(app);
      var sec = el("section");
      sec.appendChild(el("h2", "", runs.length + " run" + (runs.length === 1 ? "" : "s")));
      if (!runs.length) {
        sec.appendChild(el("p", "muted", "No runs: pass results files (aieval run --json FILE) or --history DB."));
        app.appendChild(sec);
        return;
      }
      sec.appendChild(el("p", "muted", "Open a run to see its grid; tick two runs to compare them (the one listed first is the base)."));
      var actions = el("div", "actions");
      var btn = el("button", "", "Compare selected");
      btn.id = "compare";
      btn.type = "button";
      btn.disabled = true;
      actions.appendChild(btn);
      sec.appendChild(actions);
      var table = el("table", "list");
      table.id = "runs";
      var head = el("tr");
      ["", "Run", "Source", "Started", "Git", "Tests", "Pass", "Fail", "Error", "Skip", "Cost", "Wall"].forEach(function (h, i) {
        head.appendChild(el("th", i >= 5 ? "num" : "", h));
      });
      var thead = el("thead");
      thead.appendChild(head);
      table.appendChild(thead);
      var tbody = el("tbody");
      var picks = [];
      runs.forEach(function (r) {
        var tr = el("tr", "run-row");
        tr.dataset.key = r.key;
        var pickTd = el("td");
        var pick = el("input", "pick");
        pick.type = "checkbox";
        pick.value = r.key;
        pick.disabled = !r.openable;
        pick.setAttribute("aria-label", "select " + r.label);
        pickTd.appendChild(pick);
        picks.push(pick);
        tr.appendChild(pickTd);
        var name = el("td");
        if (r.openable) { name.appendChild(link("#/run/" + encodeURIComponent(r.key), r.label)); }
        else { name.appendChild(el("span", "", r.label)); }
        if (r.run_id) { name.appendChild(el("div", "muted", r.run_id)); }
        if (r.note) { name.appendChild(el("div", "muted", r.note)); }
        tr.appendChild(name);
        tr.appendChild(td(r.source));
        tr.appendChild(td(when(r.started_at)));
        tr.appendChild(td(git(r)));
        [r.total, r.passed, r.failed, r.errors, r.skipped].forEach(function (n) { tr.appendChild(td(n, "num")); });
        tr.appendChild(td(money(r.cost), "num"));
        tr.appendChild(td(ms(r.duration_ms), "num"));
        tbody.appendChild(tr);
      });
      table.appendChild(tbody);
      sec.appendChild(table);
      app.appendChild(sec);
      function picked() { return picks.filter(function (p) { return p.checked; }).map(function (p) { return p.value; }); }
      picks.forEach(function (p) {
        p.addEventListener("change", function () { btn.disabled = picked().length !== 2; });
      });
      btn.addEventListener("click", function () {
        var k = picked();
        if (k.length === 2) { location.hash = "#/compare/" + encodeURIComponent(k[0]) + "/" + encodeURIComponent(k[1]); }
      });
    }).catch(say);
  }

  // ---- one run's grid ----

  var RANK = { error: 0, fail: 1, skip: 2, pass: 3 };

  // sortValue reduces a row's cells to one key: worst status, lowest
  // score, total cost, slowest latency; text keys compare as text.
  function sortValue(row, key) {
    var cells = Object.keys(row.cells).map(function (m) { return row.cells[m]; });
    switch (key) {
      case "status": return Math.min.apply(null, cells.map(function (c) { return c.status in RANK ? RANK[c.status] : -1; }));
      case "score": return Math.min.apply(null, cells.map(function (c) { return c.score; }));
      case "cost": return cells.reduce(function (a, c) { return a + c.cost; }, 0);
      case "latency": return Math.max.apply(null, cells.map(function (c) { return c.latency_ms; }));
      case "prompt": return row.prompt.toLowerCase();
      case "name": return row.name.toLowerCase();
    }
    return (row.suite_name + "\u0000" + row.name).toLowerCase();
  }

  function runView(key, openIdx) {
    get("/api/runs/" + encodeURIComponent(key)).then(function (g) {
      setCrumbs([{ text: "Runs", href: "#/" }, { text: title(g.run) }]);
      clear(app);
      var r = g.run;
      var head = el("section", "run-head");
      head.appendChild(el("h2", "", title(r)));
      var meta = [when(r.started_at) && "started " + when(r.started_at), git(r) && "git " + git(r), "wall " + ms(r.duration_ms), "cost " + money(r.cost)];
      head.appendChild(el("p", "meta", meta.filter(Boolean).join(" · ")));
      var counts = el("div", "counts");
      [["total", "tests", r.total], ["pass", "passed", r.passed], ["fail", "failed", r.failed], ["error", "errors", r.errors], ["skip", "skipped", r.skipped]].forEach(function (c) {
        var s = el("span", "count " + c[0]);
        var b = el("b", "", String(c[2]));
        b.id = "count-" + c[0];
        s.appendChild(b);
        s.appendChild(document.createTextNode(" " + c[1]));
        counts.appendChild(s);
      });
      head.appendChild(counts);
      app.appendChild(head);

      var rows = [];
      var bar = filterBar(STATUSES, "Filter by suite, test, prompt, output or reason", function (st, q) { applyFilter(rows, st, q, bar.shown); });
      var sortSel = el("select");
      sortSel.id = "sort";
      sortSel.setAttribute("aria-label", "sort by");
      [["suite", "sort: suite, test"], ["name", "sort: test"], ["prompt", "sort: prompt"], ["status", "sort: status (worst first)"], ["score", "sort: score"], ["cost", "sort: cost"], ["latency", "sort: latency"]].forEach(function (o) {
        var opt = el("option", "", o[1]);
        opt.value = o[0];
        sortSel.appendChild(opt);
      });
      var dir = el("button", "dir", "ascending");
      dir.id = "sort-dir";
      dir.type = "button";
      bar.nav.appendChild(sortSel);
      bar.nav.appendChild(dir);
      app.appendChild(bar.nav);

      var table = el("table", "list");
      table.id = "grid";
      var thead = el("thead");
      var htr = el("tr");
      var ths = {};
      [["suite", "Suite"], ["name", "Test"], ["prompt", "Prompt"]].forEach(function (h) {
        var th = el("th", "sortable", h[1]);
        th.dataset.sort = h[0];
        ths[h[0]] = th;
        htr.appendChild(th);
      });
      g.models.forEach(function (m) {
        var th = el("th", "model", m || "(no model)");
        th.title = "click a cell for the test's full request";
        htr.appendChild(th);
      });
      thead.appendChild(htr);
      table.appendChild(thead);
      var tbody = el("tbody");
      table.appendChild(tbody);
      app.appendChild(table);

      g.rows.forEach(function (row) {
        var tr = el("tr", "grid-row");
        var sts = {};
        Object.keys(row.cells).forEach(function (m) { sts[row.cells[m].status] = true; });
        tr.dataset.status = Object.keys(sts).join(" ");
        tr.dataset.id = row.suite + "::" + row.name;
        var s = td(row.suite_name);
        s.title = row.suite + (row.line ? ":" + row.line : "");
        tr.appendChild(s);
        tr.appendChild(td(row.name, "name"));
        tr.appendChild(td(row.prompt));
        g.models.forEach(function (m) {
          var c = row.cells[m];
          if (!c) { tr.appendChild(td("—", "empty")); return; }
          var cell = el("td", "cell " + c.status);
          cell.dataset.idx = String(c.idx);
          cell.dataset.model = m;
          cell.tabIndex = 0;
          var line = el("div");
          line.appendChild(badge(c.status));
          line.appendChild(el("span", "nums", aieval.score(c.score) + " · " + money(c.cost) + " · " + ms(c.latency_ms) + (c.cached ? " · cached" : "")));
          cell.appendChild(line);
          if (c.reason && c.status !== "pass") { cell.appendChild(el("div", "why", c.reason)); }
          cell.appendChild(el("pre", "out", c.output));
          cell.addEventListener("click", function () { toggleCell(tr, cell); });
          cell.addEventListener("keydown", function (e) {
            if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggleCell(tr, cell); }
          });
          tr.appendChild(cell);
        });
        tr.row = row;
        rows.push(tr);
        tbody.appendChild(tr);
      });

      var sortKey = "suite", asc = true;
      function sortRows() {
        var sorted = rows.slice().sort(function (a, b) {
          var x = sortValue(a.row, sortKey), y = sortValue(b.row, sortKey);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return asc ? c : -c;
        });
        sorted.forEach(function (tr) {
          tbody.appendChild(tr);
          if (tr.detail) { tbody.appendChild(tr.detail); }
        });
        Object.keys(ths).forEach(function (k) {
          if (k === sortKey) { ths[k].setAttribute("aria-sort", asc ? "ascending" : "descending"); }
          else { ths[k].removeAttribute("aria-sort"); }
        });
        sortSel.value = sortKey;
        dir.textContent = asc ? "ascending" : "descending";
      }
      sortSel.addEventListener("change", function () { sortKey = sortSel.value; asc = true; sortRows(); });
      dir.addEventListener("click", function () { asc = !asc; sortRows(); });
      Object.keys(ths).forEach(function (k) {
        ths[k].addEventListener("click", function () {
          if (sortKey === k) { asc = !asc; } else { sortKey = k; asc = true; }
          sortRows();
        });
      });

      function toggleCell(tr, cell) {
        var idx = cell.dataset.idx;
        if (tr.detail && tr.detail.idx === idx && tr.detail.open) {
          tr.detail.open = false;
          tr.detail.hidden = true;
          cell.classList.remove("open");
          return;
        }
        Array.prototype.forEach.call(tr.querySelectorAll("td.cell.open"), function (o) { o.classList.remove("open"); });
        cell.classList.add("open");
        if (!tr.detail) {
          tr.detail = el("tr", "detail-row");
          tr.detail.appendChild(el("td"));
          tbody.insertBefore(tr.detail, tr.nextSibling);
        }
        var box = tr.detail.firstChild;
        box.colSpan = tr.children.length;
        clear(box);
        box.appendChild(el("p", "meta", "Loading…"));
        tr.detail.idx = idx;
        tr.detail.open = true;
        tr.detail.hidden = false;
        get("/api/runs/" + encodeURIComponent(key) + "/tests/" + idx).then(function (d) {
          if (tr.detail.idx !== idx) { return; }
          clear(box);
          box.appendChild(el("h4", "", tr.row.name + (cell.dataset.model ? " on " + cell.dataset.model : "")));
          box.appendChild(aieval.detail(d));
        }).catch(function (err) { clear(box); box.appendChild(el("p", "error", String(err.message))); });
      }

      sortRows();
      applyFilter(rows, "all", "", bar.shown);
      if (openIdx !== undefined) {
        var c = table.querySelector('td.cell[data-idx="' + openIdx + '"]');
        if (c) { toggleCell(c.parentNode, c); c.parentNode.scrollIntoView({ block: "start" }); }
      }
    }).catch(say);
  }

  // ---- two runs side by side ----

  function sideText(c) { return c ? c.status + " " + aieval.score(c.score) : "—"; }

  function compareView(bk, hk, openAt) {
    get("/api/compare?base=" + encodeURIComponent(bk) + "&head=" + encodeURIComponent(hk)).then(function (cmp) {
      setCrumbs([{ text: "Runs", href: "#/" }, { text: "compare" }]);
      clear(app);
      var head = el("section", "run-head");
      head.appendChild(el("h2", "", "Base " + title(cmp.base) + " → head " + title(cmp.head)));
      var hl = el("p", "meta", cmp.headline);
      hl.id = "headline";
      head.appendChild(hl);
      var counts = el("div", "counts");
      var present = ["all"];
      KINDS.forEach(function (k) {
        var n = k === "unchanged" ? cmp.unchanged : (cmp.counts[k] || 0);
        if (!n) { return; }
        present.push(k);
        var s = el("span", "count kind " + k);
        var b = el("b", "", String(n));
        b.id = "count-" + k;
        s.appendChild(b);
        s.appendChild(document.createTextNode(" " + k.replace("_", " ")));
        counts.appendChild(s);
      });
      head.appendChild(counts);
      (cmp.warnings || []).forEach(function (w) { head.appendChild(el("p", "error", "warning: " + w)); });
      app.appendChild(head);

      var rows = [];
      var bar = filterBar(present, "Filter by suite, test, output or reason", function (st, q) { applyFilter(rows, st, q, bar.shown); });
      app.appendChild(bar.nav);
      var table = el("table", "list");
      table.id = "cmp";
      var htr = el("tr");
      ["Change", "Suite", "Test", "Base", "Head", "Δ score"].forEach(function (h) { htr.appendChild(el("th", "", h)); });
      var thead = el("thead");
      thead.appendChild(htr);
      table.appendChild(thead);
      var tbody = el("tbody");
      table.appendChild(tbody);
      app.appendChild(table);

      cmp.pairs.forEach(function (p) {
        var tr = el("tr", "pair-row");
        tr.dataset.status = p.kind;
        tr.dataset.id = p.id;
        tr.tabIndex = 0;
        tr.appendChild(td(p.kind.replace("_", " "), "change " + p.kind));
        tr.appendChild(td(p.suite));
        tr.appendChild(td(p.name, "name"));
        [p.base, p.head].forEach(function (c) {
          var cell = el("td");
          if (c) { cell.appendChild(badge(c.status)); cell.appendChild(el("span", "nums", " " + aieval.score(c.score))); }
          else { cell.textContent = "—"; }
          tr.appendChild(cell);
        });
        tr.appendChild(td(p.base && p.head ? (p.score_delta >= 0 ? "+" : "") + p.score_delta.toFixed(2) : "", "num"));
        tr.addEventListener("click", function () { togglePair(tr, p); history.replaceState(null, "", "#/compare/" + encodeURIComponent(bk) + "/" + encodeURIComponent(hk) + "/" + rows.indexOf(tr)); });
        tr.addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); togglePair(tr, p); }
        });
        rows.push(tr);
        tbody.appendChild(tr);
      });

      function togglePair(tr, p) {
        if (tr.detail) {
          tr.detail.open = !tr.detail.open;
          tr.detail.hidden = !tr.detail.open;
          tr.classList.toggle("open", tr.detail.open);
          return;
        }
        var d = el("tr", "detail-row");
        var cell = el("td");
        cell.colSpan = tr.children.length;
        var box = el("div", "detail");
        if (p.note) { aieval.section(box, "Why", el("pre", "", p.note)); }
        [["Base", p.base], ["Head", p.head]].forEach(function (s) {
          if (s[1] && s[1].reason) { aieval.section(box, s[0] + " reason", el("pre", "", s[1].reason)); }
        });
        var bt = "Base: " + title(cmp.base) + " (" + sideText(p.base) + ")";
        var ht = "Head: " + title(cmp.head) + " (" + sideText(p.head) + ")";
        if (p.diff) {
          aieval.section(box, "Output, base against head", aieval.sideBySide(p.diff, bt, ht));
        } else if (p.base && p.head) {
          aieval.section(box, "Output (the same in both runs)", el("pre", "output", p.head.output));
        } else {
          var only = p.head || p.base;
          aieval.section(box, "Output (" + (p.head ? "head" : "base") + " only)", el("pre", "output", only.output));
        }
        var links = el("p", "links");
        if (p.base) { links.appendChild(link("#/run/" + encodeURIComponent(bk) + "/test/" + p.base.idx, "open in the base run")); }
        if (p.head) { links.appendChild(link("#/run/" + encodeURIComponent(hk) + "/test/" + p.head.idx, "open in the head run")); }
        box.appendChild(links);
        cell.appendChild(box);
        d.appendChild(cell);
        tbody.insertBefore(d, tr.nextSibling);
        tr.detail = d;
        d.open = true;
        tr.classList.add("open");
      }
      applyFilter(rows, "all", "", bar.shown);
      var at = Number(openAt);
      if (openAt !== undefined && rows[at]) { togglePair(rows[at], cmp.pairs[at]); }
    }).catch(say);
  }

  function route() {
    var parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    if (parts[0] === "run" && parts[1]) { runView(parts[1], parts[2] === "test" ? parts[3] : undefined); }
    else if (parts[0] === "compare" && parts[1] && parts[2]) { compareView(parts[1], parts[2], parts[3]); }
    else { runsView(); }
  }
  window.addEventListener("hashchange", route);
  route();
})();
