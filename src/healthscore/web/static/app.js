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
      data: { labels: d.map(function (c) { return c.name + " (w " + c.weight + ")"; }),
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

  function change() {
    var el = document.getElementById("change");
    if (!el) return;
    fetch(el.dataset.src, { credentials: "same-origin" }).then(function (r) { return r.text().then(function (t) { return [r.ok, t]; }); })
      .then(function (res) { if (res[0]) el.innerHTML = res[1]; else el.textContent = "Could not attribute the change."; })
      .catch(function () { el.textContent = "Could not attribute the change."; });
  }

  document.addEventListener("DOMContentLoaded", function () { distribution(); components(); trend(); change(); });
})();
