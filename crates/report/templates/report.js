// Sorting, filtering and paging of the report's tables. Offline: reads only the JSON embedded in
// this page (sort keys per table), never the network.
(function () {
  "use strict";
  var dataEl = document.getElementById("tb-data");
  var data = dataEl ? JSON.parse(dataEl.textContent) : { tables: {}, pageSize: 50 };
  var pageSize = data.pageSize || 50;

  function compareKeys(a, b) {
    // Missing values sort last whatever the direction; the caller flips only present ones.
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
  }

  function setup(wrap) {
    var table = wrap.querySelector("table.tb");
    if (!table || !table.tBodies.length) return;
    var keys = data.tables[table.id] || [];
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var text = rows.map(function (r) { return r.textContent.toLowerCase(); });
    var order = rows.map(function (_, i) { return i; });
    var shown = order.slice();
    var page = 0;
    var sortCol = -1;
    var sortDir = 1;
    var input = wrap.querySelector(".tb-filter");
    var count = wrap.querySelector(".tb-count");
    var pager = wrap.querySelector(".tb-pager");

    function keyOf(i, col) {
      var row = keys[Number(rows[i].getAttribute("data-i"))];
      return row ? row[col] : null;
    }

    function sortBy(col) {
      sortDir = col === sortCol ? -sortDir : 1;
      sortCol = col;
      order.sort(function (a, b) {
        var ka = keyOf(a, col), kb = keyOf(b, col);
        if (ka === null || ka === undefined) return (kb === null || kb === undefined) ? a - b : 1;
        if (kb === null || kb === undefined) return -1;
        return sortDir * compareKeys(ka, kb) || a - b;
      });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, c) {
        if (c === col) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      page = 0;
      render();
    }

    function applyFilter() {
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      shown = order.filter(function (i) {
        return terms.every(function (t) { return text[i].indexOf(t) >= 0; });
      });
    }

    function button(label, target, disabled) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.disabled = disabled;
      b.addEventListener("click", function () { page = target; render(); });
      return b;
    }

    function render() {
      applyFilter();
      var pages = Math.max(1, Math.ceil(shown.length / pageSize));
      page = Math.min(page, pages - 1);
      var frag = document.createDocumentFragment();
      shown.slice(page * pageSize, (page + 1) * pageSize).forEach(function (i) { frag.appendChild(rows[i]); });
      while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
      tbody.appendChild(frag);
      count.textContent = shown.length === rows.length
        ? rows.length + (rows.length === 1 ? " row" : " rows")
        : shown.length + " of " + rows.length + " rows match";
      while (pager.firstChild) pager.removeChild(pager.firstChild);
      if (pages > 1) {
        pager.appendChild(button("‹ previous", page - 1, page === 0));
        var label = document.createElement("span");
        label.textContent = "page " + (page + 1) + " of " + pages;
        pager.appendChild(label);
        pager.appendChild(button("next ›", page + 1, page >= pages - 1));
      }
    }

    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, c) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(c); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(c); }
      });
    });
    input.hidden = false;
    input.addEventListener("input", function () { page = 0; render(); });
    render();
  }

  Array.prototype.forEach.call(document.querySelectorAll(".tb-wrap"), setup);
})();
