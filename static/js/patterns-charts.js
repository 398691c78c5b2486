/* Charts and map layers shared by the patterns dashboard and the finding page (Chart.js + matrix). */
(function (global) {
  "use strict";
  const INK = "#e6edf3", MUTED = "#8b9bab", LINE = "#2a3744", ACCENT = "#3fa7ff";
  // Gi* z bands: the usual 90/95/99 % two-sided cut-offs, so the legend reads as confidence.
  const Z_BANDS = [
    { min: 2.576, colour: "#d7301f", label: "hot, 99 % (z ≥ 2.58)" },
    { min: 1.96, colour: "#fc8d59", label: "hot, 95 % (z ≥ 1.96)" },
    { min: 1.645, colour: "#fdcc8a", label: "hot, 90 % (z ≥ 1.65)" },
    { min: -1.645, colour: "#4a5968", label: "not significant" },
    { min: -Infinity, colour: "#4f8fc0", label: "cold (z ≤ −1.65)" },
  ];
  const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

  if (global.Chart) {
    Chart.defaults.color = MUTED;
    Chart.defaults.borderColor = LINE;
    Chart.defaults.font.size = 11;
    Chart.defaults.animation = false;  // dense desk screens: draw at once, no motion on refresh
  }

  function zColour(z) {
    if (z === null || z === undefined) return Z_BANDS[3].colour;
    return Z_BANDS.find((b) => z >= b.min).colour;
  }

  /** Mark a canvas drawn (with how many data points) once Chart.js has rendered it. */
  function drawn(chart, points) {
    chart.canvas.dataset.drawn = String(points);
  }

  /** Replace (or create) the chart on a canvas: one chart per canvas, re-used across refreshes. */
  function put(canvas, config) {
    const old = Chart.getChart(canvas);
    if (old) old.destroy();
    return new Chart(canvas, config);
  }

  /** 7 × 24 hour-of-week heatmap as a Chart.js matrix chart. counts[day][hour]. */
  function heatmap(canvas, counts, { label = "calls" } = {}) {
    const data = [];
    let max = 0;
    counts.forEach((row, d) => row.forEach((v, h) => { data.push({ x: h, y: d, v }); max = Math.max(max, v); }));
    const chart = put(canvas, {
      type: "matrix",
      data: {
        datasets: [{
          label,
          data,
          backgroundColor: (ctx) => {
            const v = ctx.raw ? ctx.raw.v : 0;
            if (!v) return "rgba(255,255,255,0.03)";
            const a = 0.15 + 0.85 * (v / (max || 1));
            return `rgba(255,140,40,${a.toFixed(3)})`;
          },
          borderWidth: 0,
          width: ({ chart }) => ((chart.chartArea || {}).width || 0) / 24 - 1,
          height: ({ chart }) => ((chart.chartArea || {}).height || 0) / 7 - 1,
        }],
      },
      options: {
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: () => "", label: (c) => `${DAYS[c.raw.y]} ${String(c.raw.x).padStart(2, "0")}:00 — ${c.raw.v} ${label}` } },
        },
        scales: {
          // The cells sit on whole hours/days, but the axes run from -0.5 so they are not cut in
          // half; Chart.js would then tick at -0.5, 0.5, ..., so the ticks are set explicitly.
          x: {
            type: "linear", min: -0.5, max: 23.5, offset: false, grid: { display: false },
            afterBuildTicks: (axis) => { axis.ticks = [0, 3, 6, 9, 12, 15, 18, 21].map((value) => ({ value })); },
            ticks: { autoSkip: false, callback: (v) => String(v).padStart(2, "0") + ":00" },
          },
          y: {
            type: "linear", min: -0.5, max: 6.5, reverse: true, offset: false, grid: { display: false },
            afterBuildTicks: (axis) => { axis.ticks = DAYS.map((_, value) => ({ value })); },
            ticks: { autoSkip: false, callback: (v) => DAYS[v] || "" },
          },
        },
      },
    });
    drawn(chart, data.length);
    return chart;
  }

  /** Concentration curve with the equal-share diagonal for reference. */
  function curve(canvas, points) {
    const chart = put(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: "Share of calls", data: points, borderColor: ACCENT, backgroundColor: "rgba(63,167,255,0.15)", fill: true, pointRadius: 0, borderWidth: 2 },
          { label: "Equal share", data: [{ x: 0, y: 0 }, { x: 100, y: 100 }], borderColor: MUTED, borderDash: [4, 4], pointRadius: 0, borderWidth: 1 },
        ],
      },
      options: {
        maintainAspectRatio: false,
        parsing: false,
        plugins: { legend: { labels: { boxWidth: 10 } }, tooltip: { callbacks: { label: (c) => `${c.parsed.x} % of locations → ${c.parsed.y} % of calls` } } },
        scales: {
          x: { type: "linear", min: 0, max: 100, title: { display: true, text: "% of locations (busiest first)" } },
          y: { type: "linear", min: 0, max: 100, title: { display: true, text: "% of calls" } },
        },
      },
    });
    drawn(chart, points.length);
    return chart;
  }

  /** Calls per period (day or week) as bars. */
  function weekly(canvas, labels, counts, label = "Calls per week") {
    const chart = put(canvas, {
      type: "bar",
      data: { labels, datasets: [{ label, data: counts, backgroundColor: ACCENT }] },
      options: { maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    drawn(chart, counts.length);
    return chart;
  }

  /** A table-cell sparkline: a bare line chart, no axes. */
  function sparkline(canvas, counts, colour) {
    const chart = put(canvas, {
      type: "line",
      data: { labels: counts.map((_, i) => i), datasets: [{ data: counts, borderColor: colour || INK, borderWidth: 1.5, pointRadius: 0, tension: 0.2 }] },
      options: {
        responsive: false, events: [],
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: { display: false }, y: { display: false, beginAtZero: true } },
      },
    });
    drawn(chart, counts.length);
    return chart;
  }

  /** A Leaflet map on the Beacon dark background, with optional tiles. */
  function baseMap(id, cfg) {
    const map = L.map(id, { zoomControl: true, attributionControl: !!cfg.tiles, maxZoom: 19, minZoom: 3 }).setView(cfg.center, cfg.zoom);
    if (cfg.tiles) L.tileLayer(cfg.tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
    return map;
  }

  /** GeoJSON rings ([lon, lat]) to Leaflet latlngs. */
  function ringLatLngs(ring) { return ring.map(([lon, lat]) => [lat, lon]); }

  function zLegend() {
    const legend = L.control({ position: "bottomright" });
    legend.onAdd = () => {
      const div = L.DomUtil.create("div", "zlegend");
      div.setAttribute("id", "zlegend");
      div.append(Object.assign(document.createElement("b"), { textContent: "Gi* z-score" }));
      for (const b of Z_BANDS) {
        const row = document.createElement("div");
        const sw = document.createElement("span");
        sw.className = "swatch"; sw.style.background = b.colour;
        row.append(sw, document.createTextNode(" " + b.label));
        div.append(row);
      }
      const outline = document.createElement("div");
      outline.textContent = "- - purple outline: hotspot finding; · · blue outline: next week's forecast (top 2 %); ● repeat location";
      div.append(outline);
      return div;
    };
    return legend;
  }

  global.PatternCharts = { heatmap, curve, weekly, sparkline, baseMap, ringLatLngs, zColour, zLegend, Z_BANDS };
})(window);
