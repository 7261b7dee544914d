// Charts of the server-rendered pages (Chart.js, vendored), and the account page's change fragment.
(function () {
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  var palette = ["#b71c1c", "#d32f2f", "#e53935", "#ef6c00", "#f9a825", "#fdd835", "#c0ca33", "#7cb342", "#43a047", "#2e7d32"];

  function distribution() {
    var d = data("dist-data"), el = document.getElementById("dist-chart");
    if (!d || !el || !window.Chart) return;
    var bands = d.length ? Object.keys(d[0].buckets) : [];
    new Chart(el, {
      type: "bar",
      data: { labels: d.map(function (r) { return r.as_of; }),
              datasets: bands.map(function (b, i) {
                return { label: b, data: d.map(function (r) { return r.buckets[b]; }), backgroundColor: palette[i % palette.length] };
              }) },
      options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "accounts" } } },
                 plugins: { legend: { position: "right" } } }
    });
  }

  function components() {
    var d = data("components-data"), el = document.getElementById("components-chart");
    if (!d || !el || !window.Chart) return;
    new Chart(el, {
      type: "bar",
      // the score in the label: a component at 0 draws no bar, and would look like one without data
      data: { labels: d.map(function (c) {
                return c.name + " " + (c.score === null || c.score === undefined ? "no data" : c.score.toFixed(1)) +
                  " (w " + c.weight + ")"; }),
              datasets: [{ label: "score", data: d.map(function (c) { return c.score; }), backgroundColor: "#546e7a" }] },
      options: { indexAxis: "y", animation: false, scales: { x: { min: 0, max: 100 } }, plugins: { legend: { display: false } } }
    });
  }

  // Tier bands behind the line and a dashed line where the model version changes.
  var bandsPlugin = {
    id: "tierBands",
    beforeDatasetsDraw: function (chart, args, opts) {
      var y = chart.scales.y, area = chart.chartArea, ctx = chart.ctx;
      [[0, opts.yellow, "rgba(198,40,40,0.10)"], [opts.yellow, opts.green, "rgba(249,168,37,0.12)"], [opts.green, 100, "rgba(46,125,50,0.10)"]]
        .forEach(function (b) { ctx.fillStyle = b[2]; ctx.fillRect(area.left, y.getPixelForValue(b[1]), area.right - area.left, y.getPixelForValue(b[0]) - y.getPixelForValue(b[1])); });
      (opts.markers || []).forEach(function (i) {
        var x = chart.scales.x.getPixelForValue(i);
        ctx.save(); ctx.setLineDash([4, 4]); ctx.strokeStyle = "#37474f"; ctx.beginPath(); ctx.moveTo(x, area.top); ctx.lineTo(x, area.bottom); ctx.stroke(); ctx.restore();
      });
    }
  };

  function trend() {
    var d = data("trend-data"), el = document.getElementById("trend-chart");
    if (!d || !el || !window.Chart) return;
    var h = d.history, labels = h.map(function (r) { return r.as_of; }), markers = [];
    for (var i = 1; i < h.length; i++) if (h[i].model_version !== h[i - 1].model_version) markers.push(i);
    new Chart(el, {
      type: "line",
      data: { labels: labels, datasets: [{ label: "score", data: h.map(function (r) { return r.score; }), borderColor: "#263238", spanGaps: false, pointRadius: 2 }] },
      options: { animation: false, scales: { y: { min: 0, max: 100 } },
                 plugins: { legend: { display: false }, tierBands: { green: d.green, yellow: d.yellow, markers: markers } } },
      plugins: [bandsPlugin]
    });
  }

  // The change attribution, from the API's JSON, built as DOM nodes with text only: nothing fetched is
  // ever parsed as HTML (the page's CSP allows no inline script either).
  function node(tag, text, attrs) {
    var el = document.createElement(tag);
    if (text !== undefined && text !== null) el.textContent = String(text);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }
  function fmt(v, signed) {
    if (v === null || v === undefined) return "-";
    var s = Number(v).toFixed(2);
    return signed && v >= 0 ? "+" + s : s;
  }
  function side(p) {
    return p.as_of + " (" + fmt(p.score) + ", " + (p.tier || p.status) + ", model " + p.model_version + ")";
  }
  function renderChange(ex) {
    var c = ex.change, box = node("div", null, { "data-testid": "change" });
    var note = node("p"); note.appendChild(node("strong", ex.trend_note)); box.appendChild(note);
    var metrics = (c.metrics || []).reduce(function (a, m) { return a + (m.points || 0); }, 0);
    box.appendChild(node("p", side(c.from) + " \u2192 " + side(c.to) + ": change " + fmt(c.delta) + " = metrics " +
      fmt(metrics) + " + model version " + fmt(c.model_version_part) + " + override " + fmt(c.override_part) +
      (c.reason ? " (" + c.reason + ")" : "")));
    var table = node("table", null, { "class": "grid" }), head = node("tr");
    ["Metric", "Component", "Value before \u2192 after", "Score before \u2192 after", "Points", "of which score",
     "of which weight"].forEach(function (h) { head.appendChild(node("th", h)); });
    table.appendChild(node("thead")).appendChild(head);
    var body = table.appendChild(node("tbody")), moved = (c.metrics || []).filter(function (m) { return m.points; });
    moved.forEach(function (m) {
      var tr = node("tr");
      [m.metric, m.component, m.value_before + " \u2192 " + m.value_after, m.score_before + " \u2192 " + m.score_after]
        .forEach(function (v) { tr.appendChild(node("td", v)); });
      [fmt(m.points, true), fmt(m.score_part, true), fmt(m.weight_part, true)]
        .forEach(function (v) { tr.appendChild(node("td", v, { "class": "n" })); });
      body.appendChild(tr);
    });
    if (!moved.length) { var tr = node("tr"); tr.appendChild(node("td", "No metric moved.", { colspan: "7" })); body.appendChild(tr); }
    box.appendChild(table);
    return box;
  }
  function change() {
    var el = document.getElementById("change");
    if (!el) return;
    fetch(el.dataset.json, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (ex) { el.replaceChildren(renderChange(ex)); })
      .catch(function () { el.textContent = "Could not attribute the change."; });
  }

  document.addEventListener("DOMContentLoaded", function () { distribution(); components(); trend(); change(); });
})();
