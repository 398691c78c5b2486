/* A finding's page: the subject on a small map, the evidence per week and by hour of week. */
(function () {
  "use strict";
  const PC = window.PatternCharts;
  const cfg = JSON.parse(document.getElementById("finding-config").textContent);

  const map = PC.baseMap("fmap", cfg.map);
  const bounds = [];
  for (const ring of cfg.subject.cells) {
    const poly = L.polygon(PC.ringLatLngs(ring), { className: "hex subject-cell", color: "#b37feb", weight: 2, fillColor: "#d7301f", fillOpacity: 0.35 }).addTo(map);
    bounds.push(...poly.getLatLngs()[0]);
  }
  for (const [lat, lon, radius] of cfg.subject.zones) {
    L.circle([lat, lon], { radius, className: "risk-zone", color: "#ff9f1a", weight: 1, fillOpacity: 0.1 }).addTo(map);
    bounds.push(L.latLng(lat, lon));
  }
  for (const [lat, lon] of cfg.points) {
    L.circleMarker([lat, lon], { className: "evidence-point", radius: 3, color: "#3fa7ff", weight: 1, fillOpacity: 0.7 }).addTo(map);
    bounds.push(L.latLng(lat, lon));
  }
  if (cfg.subject.point) {
    L.circleMarker(cfg.subject.point, { className: "subject-marker", radius: 9, color: "#000", weight: 2, fillColor: "#f5d90a", fillOpacity: 0.95 }).addTo(map);
    bounds.push(L.latLng(cfg.subject.point[0], cfg.subject.point[1]));
  }
  if (bounds.length) map.fitBounds(L.latLngBounds(bounds), { padding: [12, 12], maxZoom: 16, animate: false });
  document.getElementById("fmap").dataset.layers = String(bounds.length);

  const series = cfg.series;
  document.getElementById("series-unit").textContent = series.unit;
  PC.weekly(document.getElementById("weekly"), series.labels, series.counts, `Calls per ${series.unit}`);
  PC.heatmap(document.getElementById("fheat"), cfg.heatmap.counts);

  // Keyboard: Alt+A / Alt+D jump to the accept / dismiss rationale.
  document.addEventListener("keydown", (e) => {
    if (!e.altKey) return;
    const target = { a: "rationale-accept", d: "rationale-dismiss" }[e.key.toLowerCase()];
    const field = target && document.getElementById(target);
    if (field) { e.preventDefault(); field.focus(); }
  });
  const invalid = document.querySelector("textarea[aria-invalid=true]");
  if (invalid) invalid.focus();
})();
