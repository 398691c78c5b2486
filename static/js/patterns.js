/* The patterns dashboard: filters → data.json → map, table, heatmap, curve, findings; live on finished runs. */
(function () {
  "use strict";
  const { api, el, errorText, LiveSocket, debounce, fmtTime } = window.Beacon;
  const PC = window.PatternCharts;
  const cfg = JSON.parse(document.getElementById("patterns-config").textContent);
  const $ = (id) => document.getElementById(id);
  const TREND = { rising: "▲ rising", falling: "▼ falling", flat: "■ flat" };
  const KIND_LABELS = Object.fromEntries(cfg.options.kinds.map((k) => [k.value, k.label]));

  // --- filters ---------------------------------------------------------------------------
  function fillSelect(select, items, selected) {
    for (const it of items) {
      const value = typeof it === "object" ? String(it.value ?? it.id) : String(it);
      const label = typeof it === "object" ? (it.label ?? it.name) : String(it);
      select.append(el("option", { value, selected: value === String(selected ?? "") }, label));
    }
  }
  const f = cfg.filters;
  fillSelect($("f-category"), cfg.options.categories, f.category);
  fillSelect($("f-window"), cfg.options.windows.map((w) => ({ value: w, label: `Last ${w} days` })), f.window);
  fillSelect($("f-agency"), cfg.options.agencies, f.agency);
  fillSelect($("f-status"), cfg.options.statuses.map((s) => ({ value: s, label: s === "open" ? "Open (proposed + accepted)" : s[0].toUpperCase() + s.slice(1) })), f.status);
  fillSelect($("f-kind"), cfg.options.kinds, f.kind);
  $("f-bbox").checked = !!f.bbox;

  // --- map --------------------------------------------------------------------------------
  const map = PC.baseMap("pmap", cfg.map);
  const hexLayer = L.layerGroup().addTo(map);
  const outlineLayer = L.layerGroup().addTo(map);
  const repeatLayer = L.layerGroup().addTo(map);
  const forecastLayer = L.layerGroup().addTo(map);
  PC.zLegend().addTo(map);
  L.control.layers(null, { "Gi* cells": hexLayer, "Hotspot findings": outlineLayer, "Repeat locations": repeatLayer, "Next week (forecast)": forecastLayer }, { collapsed: true }).addTo(map);
  let fitted = !!f.bbox;
  let bbox = f.bbox;

  function query() {
    const p = new URLSearchParams();
    for (const name of ["category", "window", "agency", "status", "kind"]) {
      const v = $("f-" + name).value;
      if (v) p.set(name, v);
    }
    if ($("f-bbox").checked) {
      const b = map.getBounds();
      const south = Math.max(-90, b.getSouth()), north = Math.min(90, b.getNorth());
      const west = Math.max(-180, b.getWest()), east = Math.min(180, b.getEast());
      bbox = [south, west, north, east].map((v) => v.toFixed(5));
      p.set("bbox", bbox.join(","));
    }
    return p;
  }

  function drawMap(data) {
    hexLayer.clearLayers(); outlineLayer.clearLayers(); repeatLayer.clearLayers(); forecastLayer.clearLayers();
    const fc = data.forecast || { features: [] };
    fc.features.forEach((f) => {
      const poly = L.polygon(PC.ringLatLngs(f.geometry.coordinates[0]), { className: "forecast-cell", color: "#40a9ff", weight: 2, dashArray: "2 4", fillOpacity: 0.08 });
      poly.bindTooltip(`Forecast rank ${f.properties.rank} of ${fc.features.length}: top ${Math.round(fc.budget * 100)} % of cells by ${fc.method} counts over the last ${fc.train_days} days`);
      forecastLayer.addLayer(poly);
    });
    const bounds = [];
    for (const feat of data.hexes.features) {
      const pr = feat.properties;
      const poly = L.polygon(PC.ringLatLngs(feat.geometry.coordinates[0]), {
        className: "hex" + (pr.hot ? " hot" : ""), color: PC.zColour(pr.z), weight: 0.5, fillColor: PC.zColour(pr.z), fillOpacity: 0.55,
      });
      poly.bindTooltip(`${pr.count} call${pr.count === 1 ? "" : "s"} · Gi* z ${pr.z === null ? "—" : pr.z.toFixed(2)}${pr.hot ? " · hot (FDR 5 %)" : ""}`);
      hexLayer.addLayer(poly);
      bounds.push(...poly.getLatLngs()[0]);
    }
    for (const spot of data.hotspots) {
      for (const ring of spot.cells) {
        const poly = L.polygon(PC.ringLatLngs(ring), { className: "hotspot-outline", color: "#b37feb", weight: 2, dashArray: "4 3", fill: false });
        poly.bindTooltip(el("span", null, `Hotspot finding #${spot.id} (${spot.status}): ${spot.label}`));
        poly.on("click", () => { location.href = spot.url; });
        outlineLayer.addLayer(poly);
      }
    }
    for (const r of data.repeats) {
      if (r.latitude === null || r.longitude === null) continue;
      const m = L.circleMarker([r.latitude, r.longitude], { className: "repeat-marker", radius: 7, color: "#000", weight: 1, fillColor: r.status === "accepted" ? "#3ddc84" : "#f5d90a", fillOpacity: 0.95 });
      m.bindTooltip(el("span", null, `${r.address}: ${r.count} calls in ${r.window_days} d (expected ${r.expected}) · ${r.trend}`));
      m.on("click", () => { location.href = r.url; });
      repeatLayer.addLayer(m);
      bounds.push(L.latLng(r.latitude, r.longitude));
    }
    $("pmap").dataset.hexes = String(data.hexes.features.length);
    if (!fitted && bounds.length) { map.fitBounds(L.latLngBounds(bounds), { padding: [10, 10], maxZoom: 15, animate: false }); fitted = true; }
  }

  // --- table, charts, list ----------------------------------------------------------------
  function fmtP(p) { return p === null || p === undefined ? "" : p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`; }

  function drawRepeats(rows) {
    const body = $("repeat-table").querySelector("tbody");
    body.replaceChildren();
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No repeat-location findings for these filters.")));
    for (const r of rows) {
      const canvas = el("canvas", { width: 120, height: 24, class: "spark", "aria-label": `Weekly calls: ${r.weekly.join(", ")}` });
      body.append(el("tr", { class: "trend-" + r.trend },
        el("td", {}, el("a", { href: r.url }, r.address)),
        el("td", { class: "num" }, r.count ?? ""),
        el("td", { class: "num", title: fmtP(r.p) }, r.expected ?? ""),
        el("td", {}, canvas),
        el("td", { class: "trend" }, TREND[r.trend] || r.trend),
        el("td", {}, r.status)));
      PC.sparkline(canvas, r.weekly, r.trend === "rising" ? "#ff9f1a" : r.trend === "falling" ? "#5cc8ff" : "#e6edf3");
    }
  }

  function drawOutcomes(rows) {
    const body = $("outcome-table").querySelector("tbody");
    body.replaceChildren();
    if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No outcome evaluated yet for these filters.")));
    for (const o of rows) {
      const ci = o.rate_ratio === null ? "" : `${o.rate_ratio.toFixed(2)} (${o.ci_low.toFixed(2)}–${o.ci_high.toFixed(2)})`;
      body.append(el("tr", {},
        el("td", {}, el("a", { href: o.url + "#outcomes" }, o.place)),
        el("td", {}, `${o.period_start.slice(0, 10)} → ${o.period_end.slice(0, 10)}`),
        el("td", { class: "num" }, o.target_before),
        el("td", { class: "num" }, o.target_after),
        el("td", { class: "num" }, ci),
        el("td", { class: "verdict-" + o.verdict.replace(/ /g, "-") }, o.verdict)));
    }
  }

  function drawFindings(findings) {
    const list = $("findings");
    list.replaceChildren();
    $("findings-count").textContent = findings.total > findings.rows.length ? `(${findings.rows.length} of ${findings.total})` : `(${findings.total})`;
    if (!findings.rows.length) list.append(el("li", { class: "muted" }, "No findings for these filters."));
    for (const row of findings.rows) {
      list.append(el("li", { class: "status-" + row.status },
        el("a", { href: row.url, class: "finding-link" },
          el("span", { class: "badge status-" + row.status }, row.status), " ",
          el("b", {}, row.kind_label), row.place ? " · " + row.place : "", " ",
          el("span", { class: "muted" }, `#${row.id} · ${row.agency} · ${fmtTime(row.updated_at)}`)),
        el("div", { class: "why" }, row.explanation)));
    }
  }

  function drawCurve(c) {
    const summary = $("curve-summary");
    if (!c.points.length) {
      summary.textContent = "No calls with a location for these filters.";
    } else {
      const parts = c.top.map((t) => `${t.locations_pct} % of locations produce ${t.calls_pct} % of calls`);
      summary.textContent = `${parts.join(" · ")} (${c.calls} calls at ${c.locations} locations with at least one call).`;
    }
    PC.curve($("curve"), c.points);
  }

  let lastData = null;
  function render(data) {
    lastData = data;
    $("call-count").textContent = `${data.calls} call${data.calls === 1 ? "" : "s"}${data.hexes.truncated ? " (strongest cells shown)" : ""}`;
    $("heat-tz").textContent = `(${data.time_zone}, ${data.calls} calls)`;
    drawMap(data);
    drawRepeats(data.repeats);
    PC.heatmap($("heatmap"), data.heatmap.counts);
    drawCurve(data.concentration);
    drawFindings(data.findings);
    drawOutcomes(data.outcomes || []);
  }

  let inflight = 0;
  async function refresh() {
    const ticket = ++inflight;
    const p = query();
    history.replaceState(null, "", "?" + p.toString());
    const res = await api("GET", cfg.urls.data + "?" + p.toString());
    if (ticket !== inflight) return res;  // a newer request superseded this one
    $("filter-errors").textContent = res.ok ? "" : errorText(res.data);
    if (res.ok) render(res.data);
    return res;
  }
  const refreshSoon = debounce(refresh, 250);

  $("filters").addEventListener("change", (e) => { if (e.target.id !== "run-kind") refreshSoon(); });
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); refresh(); });
  map.on("moveend", () => { if ($("f-bbox").checked) refreshSoon(); });

  // --- live: a finished run refreshes the data ---------------------------------------------
  function runText(ev) {
    const kind = (KIND_LABELS[ev.kind] || ev.kind).toLowerCase();
    return ev.status === "succeeded" ? `Updated — run #${ev.run_id} ${ev.kind} finished` : `Run #${ev.run_id} ${kind} failed; the data shown is from earlier runs`;
  }
  const socket = new LiveSocket(cfg.urls.ws, {
    onEvent: async (ev) => {
      if (ev.type === "access.changed") { refreshSoon(); return; }
      if (ev.type !== "analysis_run_finished") return;
      await refresh();
      const status = $("run-status");
      status.textContent = `${runText(ev)} (${fmtTime(ev.finished_at)})`;
      status.dataset.run = String(ev.run_id);
      status.dataset.state = ev.status;
    },
    onResync: refreshSoon,
    onState: (state) => {
      const conn = $("conn");
      conn.dataset.state = state;
      conn.textContent = { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", denied: "Live updates not allowed" }[state] || state;
    },
  });

  // --- run now (analysts) ------------------------------------------------------------------
  if (cfg.canRun) {
    $("run-now").hidden = false;
    fillSelect($("run-kind"), cfg.runKinds.map((k) => ({ value: k, label: KIND_LABELS[k] || k })), "hotspots");
    $("run-button").addEventListener("click", async () => {
      const button = $("run-button");
      button.disabled = true;
      $("run-status").textContent = "Running…";
      const res = await api("POST", cfg.urls.run, { kind: $("run-kind").value });
      button.disabled = false;
      if (!res.ok) { $("run-status").textContent = errorText(res.data); return; }
      // 202: a worker runs it; the finished-run event updates this line and the data.
      if (res.data.queued) { $("run-status").textContent = `Queued: ${KIND_LABELS[res.data.kind] || res.data.kind}…`; return; }
      const run = res.data.run;
      const summary = run ? `Run #${run.id} ${run.kind} ${run.status}` + (run.counts && run.counts.created !== undefined ? `: ${run.counts.created} new, ${run.counts.updated} updated, ${run.counts.expired} expired` : "") : "";
      $("run-status").textContent = [res.data.detail, summary].filter(Boolean).join(" ");
    });
  }

  // --- keyboard ----------------------------------------------------------------------------
  document.addEventListener("keydown", (e) => {
    if (e.altKey && e.key === "1") { e.preventDefault(); $("f-category").focus(); }
    else if (e.altKey && (e.key === "v" || e.key === "V")) { e.preventDefault(); $("f-bbox").click(); }
    else if (e.altKey && (e.key === "f" || e.key === "F")) { e.preventDefault(); const a = document.querySelector("#findings a"); if (a) a.focus(); }
    else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && document.activeElement && document.activeElement.classList.contains("finding-link")) {
      e.preventDefault();
      const links = [...document.querySelectorAll("#findings a.finding-link")];
      const i = links.indexOf(document.activeElement) + (e.key === "ArrowDown" ? 1 : -1);
      if (links[i]) links[i].focus();
    }
  });

  refresh().then(() => socket.connect());
  window.patterns = { refresh, socket, get data() { return lastData; } };
})();
