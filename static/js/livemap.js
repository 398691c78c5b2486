/* The live map: open calls by priority, units by status with heading and staleness, premise hazards. */
(function (global) {
  "use strict";
  const PRIORITY_COLOURS = { 1: "#ff4d4f", 2: "#ff9f1a", 3: "#f5d90a", 4: "#5cc8ff", 5: "#9aa7b4" };
  const UNIT_COLOURS = { available: "#3ddc84", dispatched: "#ffb020", en_route: "#ff8a00", on_scene: "#ff4d4f", out_of_service: "#8b9bab", off_duty: "#55606b" };
  const STALE_AFTER_S = 300;
  // CAP 1.2 <severity> of partner alerts.
  const SEVERITY_COLOURS = { Extreme: "#a8071a", Severe: "#ff4d4f", Moderate: "#ff9f1a", Minor: "#f5d90a", Unknown: "#9aa7b4" };

  // A partner alert's popup, built from text nodes (alert text comes from outside: never HTML).
  function alertPopup(a) {
    const box = document.createElement("div");
    box.className = "alert-popup";
    const line = (tag, text) => { const n = document.createElement(tag); n.textContent = text; box.appendChild(n); return n; };
    line("b", a.headline || a.event || a.label);
    line("div", `${a.event || ""} (${a.severity || "Unknown"})`);
    line("div", `Until ${a.expires ? new Date(a.expires).toLocaleString() : "further notice"}`);
    if (a.url) { const link = line("a", "Open alert"); link.href = a.url; }
    return box;
  }
  // Leaflet puts a string tooltip in innerHTML; addresses, notes and labels are typed by people.
  const asText = (text) => Object.assign(document.createElement("span"), { textContent: text });

  class LiveMap {
    constructor(elementId, { center, zoom, tiles, onMapClick, onCallClick }) {
      this.map = L.map(elementId, { zoomControl: true, attributionControl: !!tiles, maxZoom: 19, minZoom: 3 }).setView(center, zoom);
      if (tiles) {
        // Offline the tiles fail quietly; markers still draw on the plain background.
        L.tileLayer(tiles, { maxZoom: 19, attribution: "© OpenStreetMap contributors" }).addTo(this.map);
      }
      this.calls = L.markerClusterGroup ? L.markerClusterGroup({ maxClusterRadius: 40, disableClusteringAtZoom: 16 }) : L.layerGroup();
      this.units = L.layerGroup();
      this.hazards = L.layerGroup();
      this.areas = L.layerGroup();
      this.pick = null;
      this.map.addLayer(this.areas); this.map.addLayer(this.calls); this.map.addLayer(this.units); this.map.addLayer(this.hazards);
      L.control.layers(null, { Calls: this.calls, Units: this.units, Hazards: this.hazards, Areas: this.areas }, { collapsed: true }).addTo(this.map);
      if (onMapClick) this.map.on("click", (e) => onMapClick(e.latlng.lat, e.latlng.lng));
      this.onCallClick = onCallClick;
    }
    setCalls(calls) {
      this.calls.clearLayers();
      for (const c of calls) {
        if (c.latitude === null || c.longitude === null) continue;
        const m = L.circleMarker([c.latitude, c.longitude], {
          radius: 9 - Math.min(c.priority, 4), color: "#000", weight: 1, fillColor: PRIORITY_COLOURS[c.priority] || "#ccc", fillOpacity: 0.9,
        });
        m.bindTooltip(asText(`${c.number} P${c.priority} ${c.type_name} — ${c.address || ""} (${c.status_label})`));
        if (this.onCallClick) m.on("click", () => this.onCallClick(c.id));
        this.calls.addLayer(m);
      }
    }
    setUnits(units, now) {
      this.units.clearLayers();
      for (const u of units) {
        if (u.latitude === null || u.longitude === null) continue;
        const stale = u.fix_age_s === null || u.fix_age_s > STALE_AFTER_S;
        const colour = UNIT_COLOURS[u.status] || "#ccc";
        const rot = u.heading === null || u.heading === undefined ? null : Math.round(u.heading);
        const arrow = rot === null ? "" : `<span class="unit-arrow" style="transform:rotate(${rot}deg)">▲</span>`;
        const icon = L.divIcon({
          className: "unit-icon" + (stale ? " stale" : ""),
          html: `<span class="unit-dot" style="background:${colour}"></span>${arrow}<span class="unit-label"></span>`,
          iconSize: [18, 18], iconAnchor: [9, 9],
        });
        const m = L.marker([u.latitude, u.longitude], { icon, keyboard: false });
        m.on("add", () => { const lab = m.getElement() && m.getElement().querySelector(".unit-label"); if (lab) lab.textContent = u.call_sign; });
        m.bindTooltip(asText(`${u.call_sign} ${u.status_label}${stale ? " (position stale)" : ""}`));
        this.units.addLayer(m);
      }
    }
    setHazards(hazards) {
      this.hazards.clearLayers();
      for (const h of hazards) {
        const m = L.marker([h.latitude, h.longitude], { icon: L.divIcon({ className: "hazard-icon", html: "⚠", iconSize: [16, 16] }) });
        m.bindTooltip(asText(`${h.address}: ${h.text}`));
        this.hazards.addLayer(m);
      }
    }
    setAreas(areas) {
      this.areas.clearLayers();
      for (const a of areas) {
        // Near-repeat risk zones in orange; partner alerts by CAP severity; hotspots and other
        // areas in purple.
        const colour = a.kind === "partner_alert" ? (SEVERITY_COLOURS[a.severity] || SEVERITY_COLOURS.Unknown)
          : a.kind === "near_repeat" ? "#ff9f1a" : "#b37feb";
        const poly = L.polygon(a.rings, { color: colour, weight: 2, fillOpacity: 0.12, interactive: true, className: `area-${a.kind}` });
        poly.bindTooltip(asText(`${a.label}: ${a.detail || ""}`));
        if (a.kind === "partner_alert") poly.bindPopup(() => alertPopup(a));
        this.areas.addLayer(poly);
      }
    }
    setPick(lat, lon) {
      if (this.pick) this.map.removeLayer(this.pick);
      this.pick = lat === null ? null : L.circleMarker([lat, lon], { radius: 7, color: "#3fa7ff", weight: 3, fillOpacity: 0.2 }).addTo(this.map);
    }
    focus(lat, lon) { if (lat !== null && lon !== null) this.map.panTo([lat, lon]); }
  }
  global.LiveMap = LiveMap;
})(window);
