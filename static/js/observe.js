/* Observation card: fill the point from the phone's GPS; show what the chosen category requires. */
(function () {
  "use strict";
  // Hints only: the server checks the same requirements on filing and names any missing field.
  const reqEl = document.getElementById("observe-requirements");
  const requirements = reqEl ? JSON.parse(reqEl.textContent) : {};
  const note = document.getElementById("required-note");
  function markRequired() {
    const picked = document.querySelector('input[name="category"]:checked');
    const req = (picked && requirements[picked.value]) || { fields: [], labels: [], narrative_min_length: 0 };
    document.querySelectorAll("[data-requirable]").forEach((box) => {
      const on = req.fields.includes(box.dataset.requirable);
      const mark = box.querySelector(".req-mark");
      if (mark) mark.textContent = on ? "(required)" : "(optional)";
      box.classList.toggle("required", on);
    });
    if (note) {
      const parts = [...req.labels];
      if (req.narrative_min_length) parts.push(`a narrative of at least ${req.narrative_min_length} characters`);
      note.textContent = parts.length ? `This category needs: ${parts.join("; ")}.` : "";
    }
  }
  document.querySelectorAll('input[name="category"]').forEach((r) => r.addEventListener("change", markRequired));
  markRequired();
  const btn = document.getElementById("use-gps");
  const state = document.getElementById("gps-state");
  if (!btn) return;
  const lat = document.getElementById("o-lat"), lon = document.getElementById("o-lon");
  let marker = null, map = null;
  function show(la, lo, how) {
    lat.value = la.toFixed(6); lon.value = lo.toFixed(6);
    state.textContent = `Position: ${la.toFixed(5)}, ${lo.toFixed(5)} (${how})`;
    if (map) {
      if (marker) marker.setLatLng([la, lo]); else marker = L.marker([la, lo]).addTo(map);
      map.panTo([la, lo]);
    }
  }
  const cfgEl = document.getElementById("observe-map");
  if (cfgEl && window.L) {
    const cfg = JSON.parse(cfgEl.textContent);
    const start = lat.value && lon.value ? [Number(lat.value), Number(lon.value)] : cfg.center;
    map = L.map("observe-map-view", { maxZoom: 19, minZoom: 3, attributionControl: !!cfg.tiles }).setView(start, 15);
    if (cfg.tiles) L.tileLayer(cfg.tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(map);
    if (lat.value && lon.value) marker = L.marker(start).addTo(map);
    map.on("click", (e) => show(e.latlng.lat, e.latlng.lng, "map"));
  }
  btn.addEventListener("click", () => {
    if (!navigator.geolocation) { state.textContent = "This browser has no GPS access."; return; }
    state.textContent = "Finding your position…";
    navigator.geolocation.getCurrentPosition(
      (pos) => show(pos.coords.latitude, pos.coords.longitude, `GPS ±${Math.round(pos.coords.accuracy)} m`),
      (err) => { state.textContent = "No position: " + err.message; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
    );
  });
})();
