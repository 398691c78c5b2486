/* Assignment areas on small Leaflet maps (detail and shift-briefing pages): a circle, H3 cell
   outlines or a polygon, all given as [lat, lon] by the server. Print hides the maps and shows
   the area's words and coordinates instead, so a failed tile load never blanks a briefing. */
(function () {
  "use strict";
  const node = document.getElementById("tasking-map-config");
  if (!node || !window.L) return;
  const cfg = JSON.parse(node.textContent);
  for (const area of cfg.areas) {
    const box = document.getElementById(`amap-${area.id}`);
    if (!box) continue;
    const map = L.map(box, { zoomControl: true, attributionControl: !!cfg.map.tiles, maxZoom: 19, minZoom: 3 }).setView(cfg.map.center, cfg.map.zoom);
    if (cfg.map.tiles) L.tileLayer(cfg.map.tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
    const layers = [];
    if (area.circle) {
      const [lat, lon, radius] = area.circle;
      layers.push(L.circle([lat, lon], { radius, className: "assignment-area", color: "#ff9f1a", weight: 2, fillOpacity: 0.2 }));
    }
    for (const ring of area.polygons) {
      layers.push(L.polygon(ring, { className: "assignment-area", color: "#ff9f1a", weight: 2, fillOpacity: 0.2 }));
    }
    const group = L.featureGroup(layers).addTo(map);
    if (layers.length) map.fitBounds(group.getBounds(), { padding: [12, 12], maxZoom: 17, animate: false });
    box.dataset.layers = String(layers.length);
  }
})();
