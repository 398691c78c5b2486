/* The new-assignment form's area map: draws the area the inputs describe and lets a supervisor
   draw it instead of typing it. The inputs stay the source of truth (the server validates them);
   the map only reads and writes them, so the form still works with no script or no tiles. */
(function () {
  "use strict";
  const node = document.getElementById("area-editor-config");
  const box = document.getElementById("area-editor");
  if (!node || !box || !window.L) return;
  const cfg = JSON.parse(node.textContent).map;
  const $ = (id) => document.getElementById(id);
  const map = L.map(box, { maxZoom: 19, minZoom: 3, attributionControl: !!cfg.tiles }).setView(cfg.center, cfg.zoom);
  if (cfg.tiles) L.tileLayer(cfg.tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
  const shape = L.featureGroup().addTo(map);
  const areaType = () => (document.querySelector('input[name="area_type"]:checked') || {}).value;
  const num = (el) => parseFloat((el && el.value) || "");

  function corners() {
    return $("a-points").value.split("\n").map((line) => line.split(",").map((v) => parseFloat(v)))
      .filter((p) => p.length === 2 && p.every(Number.isFinite));
  }

  function draw(fit) {
    shape.clearLayers();
    const type = areaType();
    if (type === "circle") {
      const lat = num($("a-lat")), lon = num($("a-lon")), r = num($("a-radius"));
      if (Number.isFinite(lat) && Number.isFinite(lon)) {
        shape.addLayer(L.circle([lat, lon], { radius: Number.isFinite(r) ? r : 0, color: "#ff9f1a", weight: 2, fillOpacity: 0.2, className: "area-preview" }));
      }
    } else if (type === "polygon") {
      const pts = corners();
      if (pts.length >= 3) shape.addLayer(L.polygon(pts, { color: "#ff9f1a", weight: 2, fillOpacity: 0.2, className: "area-preview" }));
      pts.forEach((p) => shape.addLayer(L.circleMarker(p, { radius: 4, color: "#ff9f1a", className: "area-corner" })));
    }
    box.dataset.layers = String(shape.getLayers().length);
    if (fit && shape.getLayers().length) map.fitBounds(shape.getBounds(), { padding: [16, 16], maxZoom: 17, animate: false });
  }

  map.on("click", (e) => {
    const lat = e.latlng.lat.toFixed(6), lon = e.latlng.lng.toFixed(6);
    if (areaType() === "circle") {
      $("a-lat").value = lat; $("a-lon").value = lon;
      if (!$("a-radius").value) $("a-radius").value = "250";
    } else if (areaType() === "polygon") {
      const text = $("a-points").value.trim();
      $("a-points").value = (text ? text + "\n" : "") + `${lat}, ${lon}`;
    } else {
      return;  // cells come from the finding; they are not drawn by hand
    }
    draw(false);
  });
  $("area-clear").addEventListener("click", () => { $("a-points").value = ""; draw(false); });
  document.getElementById("assignment-form").addEventListener("input", () => draw(false));
  document.getElementById("assignment-form").addEventListener("change", () => draw(false));
  draw(true);
})();
