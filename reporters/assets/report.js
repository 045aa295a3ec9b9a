(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("aieval-data").textContent);
  var filter = document.getElementById("filter");
  var shown = document.getElementById("shown");
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button.status-filter"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.test-row"));
  var status = "all";

  function apply() {
    var q = filter.value.trim().toLowerCase();
    var n = 0;
    rows.forEach(function (row) {
      var ok = aieval.matches(row, status, q);
      row.hidden = !ok;
      if (row.detail) { row.detail.hidden = !ok || !row.classList.contains("open"); }
      if (ok) { n++; }
    });
    shown.textContent = String(n);
  }

  function toggle(row) {
    if (!row.detail) {
      var tr = aieval.el("tr", "detail-row");
      var td = aieval.el("td");
      td.colSpan = row.children.length;
      td.appendChild(aieval.detail(data[Number(row.dataset.idx)]));
      tr.appendChild(td);
      row.parentNode.insertBefore(tr, row.nextSibling);
      row.detail = tr;
      row.classList.add("open");
    } else {
      row.classList.toggle("open");
    }
    row.detail.hidden = !row.classList.contains("open");
  }

  rows.forEach(function (row) {
    row.addEventListener("click", function () { toggle(row); });
    row.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(row); }
    });
  });
  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      status = b.dataset.status;
      buttons.forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
      apply();
    });
  });
  filter.addEventListener("input", apply);
  apply();
})();
