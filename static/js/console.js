/* Dispatcher console: keyboard-first intake, context at intake, queue, call detail, unit board, live map. */
(function () {
  "use strict";
  const { api, errorText, LiveSocket, ageSeconds, fmtAge, fmtTime, ageClass, el, debounce } = window.Beacon;
  const config = JSON.parse(document.getElementById("console-config").textContent);
  const S = config.settings;
  const $ = (sel) => document.querySelector(sel);

  const state = { calls: [], units: [], selectedId: null, detail: null, point: null, location: null, context: null, suggestions: [], suggestIndex: -1, queueIndex: 0 };

  // ---- map ------------------------------------------------------------------
  const map = new LiveMap("map", {
    center: config.map.center, zoom: config.map.zoom, tiles: config.map.tiles,
    onMapClick: (lat, lon) => { setPoint(lat, lon, "map"); refreshContext(); },
    onCallClick: (id) => selectCall(id),
  });

  // ---- intake ---------------------------------------------------------------
  const typeSelect = $("#f-type");
  typeSelect.append(el("option", { value: "" }, "— type —"));
  for (const t of config.callTypes) typeSelect.append(el("option", { value: t.code, dataset: { priority: t.default_priority } }, `${t.code} — ${t.name}`));
  typeSelect.addEventListener("change", () => {
    const opt = typeSelect.selectedOptions[0];
    if (opt && opt.dataset.priority) $("#f-priority").value = opt.dataset.priority;
    refreshContext();
  });

  function setPoint(lat, lon, how) {
    state.point = lat === null ? null : { lat, lon };
    $("#f-point").textContent = lat === null ? "no point" : `${lat.toFixed(5)}, ${lon.toFixed(5)} (${how})`;
    map.setPick(lat, lon);
  }

  function resetIntake() {
    $("#intake").reset();
    state.location = null; state.context = null;
    setPoint(null, null);
    $("#intake-errors").textContent = "";
    renderContext(null);
    hideSuggest();
    typeSelect.focus();
  }

  // Address suggestions: normalised server-side, so "123 n main st apt 4" finds "123 N MAIN ST #4".
  const address = $("#f-address");
  const suggestList = $("#suggest");
  const fetchSuggest = debounce(async () => {
    const q = address.value.trim();
    if (q.length < 2) { hideSuggest(); return; }
    const r = await api("GET", config.urls.suggest + "?q=" + encodeURIComponent(q));
    if (!r.ok || address.value.trim() !== q) return;
    state.suggestions = r.data.results; state.suggestIndex = -1;
    renderSuggest();
  }, 120);
  address.addEventListener("input", () => { state.location = null; fetchSuggest(); });
  address.addEventListener("keydown", (e) => {
    if (suggestList.hidden) return;
    if (e.key === "ArrowDown") { state.suggestIndex = Math.min(state.suggestIndex + 1, state.suggestions.length - 1); renderSuggest(); e.preventDefault(); }
    else if (e.key === "ArrowUp") { state.suggestIndex = Math.max(state.suggestIndex - 1, 0); renderSuggest(); e.preventDefault(); }
    else if (e.key === "Enter" && state.suggestIndex >= 0) { pickSuggestion(state.suggestions[state.suggestIndex]); e.preventDefault(); }
    else if (e.key === "Escape") { hideSuggest(); }
  });
  address.addEventListener("blur", () => { setTimeout(hideSuggest, 150); if (!state.location && address.value.trim()) refreshContext(); });

  function renderSuggest() {
    suggestList.replaceChildren(...state.suggestions.map((s, i) => el("li", {
      role: "option", "aria-selected": i === state.suggestIndex ? "true" : "false", class: i === state.suggestIndex ? "active" : "",
      onmousedown: (e) => { e.preventDefault(); pickSuggestion(s); },
    }, s.address, s.locality ? ` · ${s.locality}` : "", el("small", {}, ` ${s.kind}`))));
    suggestList.hidden = state.suggestions.length === 0;
    address.setAttribute("aria-expanded", String(!suggestList.hidden));
  }
  function hideSuggest() { suggestList.hidden = true; address.setAttribute("aria-expanded", "false"); }
  function pickSuggestion(s) {
    address.value = s.address;
    state.location = s;
    if (s.latitude !== null) { setPoint(s.latitude, s.longitude, "known location"); map.focus(s.latitude, s.longitude); }
    hideSuggest();
    refreshContext();
    $("#f-caller").focus();
  }

  // ---- context at intake ------------------------------------------------------
  const refreshContext = debounce(async () => {
    const params = new URLSearchParams();
    if (state.location) params.set("location", state.location.id);
    else if (address.value.trim()) params.set("address", address.value.trim());
    if (state.point) { params.set("lat", state.point.lat); params.set("lon", state.point.lon); }
    if (typeSelect.value) params.set("call_type", typeSelect.value);
    if (![...params.keys()].some((k) => k !== "call_type")) { renderContext(null); return; }
    const r = await api("GET", config.urls.context + "?" + params);
    if (!r.ok) return;
    state.context = r.data;
    if (!state.point && r.data.latitude !== null && r.data.longitude !== null) setPoint(r.data.latitude, r.data.longitude, r.data.geocoded ? "geocoder" : "known location");
    renderContext(r.data);
  }, 150);

  function callLine(c) {
    return el("li", {}, el("time", {}, fmtTime(c.received_at)), " ", el("b", {}, c.type_code), " ", c.type_name,
      c.disposition ? ` · ${c.disposition}` : "", c.address ? el("small", {}, ` ${c.address}`) : "");
  }

  function renderContext(ctx) {
    const box = $("#context");
    if (!ctx) { box.replaceChildren(el("p", { class: "muted" }, "Set a location to see its history.")); return; }
    const parts = [];
    if (ctx.duplicates.length) {
      parts.push(el("div", { class: "dup-warning", role: "alert" },
        el("b", {}, "Possible duplicate"), ` — ${ctx.duplicates.length} open call(s) nearby in the last ${S.duplicate_window_min} min:`,
        el("ul", {}, ctx.duplicates.map((d) => el("li", {}, `${d.number} ${d.type_name} at ${d.address || "?"} (${d.status}) `,
          el("button", { type: "button", class: "attach", dataset: { callId: d.id }, onclick: () => attachTo(d) }, `Attach to ${d.number}`))))));
    }
    for (const f of ctx.flags) parts.push(el("div", { class: `flag flag-${f.kind}` }, el("b", {}, f.label), f.detail ? ` — ${f.detail}` : "", f.url ? [" ", el("a", { href: f.url, target: "_blank", rel: "noopener" }, f.kind === "partner_alert" ? "alert" : "finding")] : ""));
    const hazards = ctx.notes.filter((n) => n.kind === "hazard");
    const notes = ctx.notes.filter((n) => n.kind !== "hazard");
    if (hazards.length) parts.push(el("div", { class: "hazards" }, el("b", {}, "⚠ Hazards"), el("ul", {}, hazards.map((n) => el("li", {}, n.text)))));
    if (ctx.location) {
      const c = ctx.counts;
      parts.push(el("h3", {}, ctx.location.address, el("small", {}, ` ${ctx.location.kind}`)));
      parts.push(el("p", { class: "counts", id: "ctx-counts" }, `Here: ${c.last_24h || 0} in 24 h · ${c.last_7d || 0} in 7 d · ${c.last_90d || 0} in 90 d`));
    } else if (address.value.trim()) {
      parts.push(el("p", { class: "muted" }, "New address: no history here."));
    }
    if (ctx.nearby_counts && ctx.nearby_counts.last_90d !== undefined) {
      const n = ctx.nearby_counts;
      parts.push(el("p", { class: "counts" }, `Within ${Math.round(ctx.radius_m)} m: ${n.last_24h} in 24 h · ${n.last_7d} in 7 d · ${n.last_90d} in 90 d`));
    }
    if (notes.length) parts.push(el("div", { class: "notes" }, el("b", {}, "Premise notes"), el("ul", {}, notes.map((n) => el("li", {}, n.text)))));
    if (ctx.recent.length) parts.push(el("div", { class: "recent" }, el("b", {}, "Prior calls here"), el("ol", { id: "ctx-recent" }, ctx.recent.map(callLine))));
    if (ctx.observations && ctx.observations.length) parts.push(el("div", { class: "observations", id: "ctx-observations" }, el("b", {}, "Field observations here"), el("ul", {}, ctx.observations.map((o) => el("li", {}, el("time", {}, fmtTime(o.observed_at)), ` ${o.category}: ${o.narrative}`, el("small", {}, ` ${o.by}`))))));
    if (ctx.nearby_recent.length) parts.push(el("details", {}, el("summary", {}, `Recent calls nearby (${ctx.nearby_recent.length})`), el("ol", {}, ctx.nearby_recent.map(callLine))));
    if (ctx.persons.length) parts.push(el("div", { class: "persons", id: "ctx-persons" }, el("b", {}, "Persons known here"), el("ul", {}, ctx.persons.map((p) => el("li", {}, `${p.name} (${p.roles.join(", ")}) ×${p.count}`)))));
    if (ctx.vehicles.length) parts.push(el("div", { class: "vehicles" }, el("b", {}, "Vehicles known here"), el("ul", {}, ctx.vehicles.map((v) => el("li", {}, `${v.label} (${v.roles.join(", ")}) ×${v.count}`)))));
    if (ctx.closest_units && ctx.closest_units.length) parts.push(el("p", { class: "muted" }, "Closest available (straight line): " + ctx.closest_units.map((u) => `${u.call_sign} ${(u.distance_m / 1000).toFixed(1)} km${u.stale ? " (stale fix)" : ""}`).join(", ")));
    box.replaceChildren(...parts);
  }

  async function attachTo(dup) {
    const body = { text: $("#f-narrative").value || "(second caller, same incident)", caller_name: $("#f-caller").value, caller_phone: $("#f-phone").value };
    const r = await api("POST", `${config.urls.api}calls/${dup.id}/attach/`, body);
    if (!r.ok) { $("#intake-errors").textContent = errorText(r.data); return; }
    flash(`Attached to ${dup.number}`);
    resetIntake();
    selectCall(dup.id);
  }

  $("#intake").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      call_type: typeSelect.value, priority: Number($("#f-priority").value), source: $("#f-source").value,
      address: address.value.trim(), caller_name: $("#f-caller").value, caller_phone: $("#f-phone").value, narrative: $("#f-narrative").value,
    };
    if (state.point) { body.latitude = Number(state.point.lat.toFixed(6)); body.longitude = Number(state.point.lon.toFixed(6)); }
    if (state.location && state.location.locality) body.locality = state.location.locality;
    $("#f-submit").disabled = true;
    const r = await api("POST", config.urls.api + "calls/", body);
    $("#f-submit").disabled = false;
    if (!r.ok) { $("#intake-errors").textContent = errorText(r.data); return; }
    flash(`Created ${r.data.number}`);
    resetIntake();
    await resync();
    selectCall(r.data.id);
  });

  // ---- queue & units ----------------------------------------------------------
  function renderQueue() {
    const now = Date.now();
    const rows = state.calls.map((c, i) => {
      const age = ageSeconds(c.received_at, now);
      const cls = c.status === "pending" ? ageClass(age, S.pending_thresholds[String(c.priority)]) : "";
      return el("tr", { class: `p${c.priority}${c.id === state.selectedId ? " selected" : ""}`, tabindex: "-1", dataset: { id: c.id, index: i }, onclick: () => selectCall(c.id) },
        el("td", {}, c.priority), el("td", {}, c.number), el("td", {}, c.type_code), el("td", { class: "addr" }, c.address || ""),
        el("td", {}, c.status_label), el("td", { class: `age ${cls}`, dataset: { since: c.received_at, kind: c.status === "pending" ? `p${c.priority}` : "" } }, fmtAge(age)),
        el("td", {}, c.units.join(" ")));
    });
    $("#queue-table tbody").replaceChildren(...rows);
    $("#queue-count").textContent = `(${state.calls.length})`;
  }

  function renderUnits() {
    const now = Date.now();
    const rows = state.units.map((u) => {
      const age = ageSeconds(u.status_changed_at, now);
      const cls = ageClass(age, S.status_thresholds[u.status]);
      const stale = u.fix_age_s === null || u.fix_age_s > 300;
      return el("tr", { class: `unit-${u.status}`, dataset: { id: u.id } },
        el("td", {}, u.call_sign), el("td", {}, el("span", { class: `status s-${u.status}` }, u.status_label)),
        el("td", { class: `age ${cls}`, dataset: { since: u.status_changed_at || "", unitStatus: u.status } }, fmtAge(age)),
        el("td", {}, u.call_number ? el("a", { href: "#", onclick: (e) => { e.preventDefault(); selectCall(u.call_id); } }, u.call_number) : ""),
        el("td", { class: stale ? "stale" : "" }, u.fix_age_s === null ? "—" : fmtAge(u.fix_age_s)));
    });
    $("#unit-table tbody").replaceChildren(...rows);
  }

  // Timers tick without re-rendering rows.
  setInterval(() => {
    const now = Date.now();
    document.querySelectorAll("td.age[data-since]").forEach((td) => {
      if (!td.dataset.since) return;
      const s = ageSeconds(td.dataset.since, now);
      td.textContent = fmtAge(s);
      const th = td.dataset.unitStatus ? S.status_thresholds[td.dataset.unitStatus] : td.dataset.kind ? S.pending_thresholds[td.dataset.kind.slice(1)] : null;
      td.classList.remove("amber", "red");
      const c = ageClass(s, th); if (c) td.classList.add(c);
    });
  }, 1000);

  // ---- call detail -------------------------------------------------------------
  async function selectCall(id) {
    state.selectedId = id;
    renderQueue();
    const r = await api("GET", config.urls.callDetail.replace("/0.json", `/${id}.json`));
    if (!r.ok) { state.detail = null; $("#detail").replaceChildren(el("h2", {}, "Call"), el("p", { class: "errors" }, errorText(r.data))); return; }
    state.detail = r.data;
    renderDetail();
    if (r.data.latitude !== null) map.focus(r.data.latitude, r.data.longitude);
    loadDetailContext(r.data);
  }

  async function loadDetailContext(call) {
    const params = new URLSearchParams({ exclude: call.id });
    if (call.location_id) params.set("location", call.location_id);
    if (call.latitude !== null) { params.set("lat", call.latitude); params.set("lon", call.longitude); }
    const r = await api("GET", config.urls.context + "?" + params);
    if (!r.ok || !state.detail || state.detail.id !== call.id) return;
    const sel = $("#d-unit");
    if (!sel) return;
    const available = state.units.filter((u) => u.status === "available");
    const closest = r.data.closest_units || [];
    sel.replaceChildren(el("option", { value: "" }, "— unit —"),
      ...closest.map((u, i) => el("option", { value: u.id, selected: i === 0 }, `${u.call_sign} · ${(u.distance_m / 1000).toFixed(1)} km${i === 0 ? " (closest)" : ""}${u.stale ? " · stale" : ""}`)),
      ...available.filter((u) => !closest.some((c) => c.id === u.id)).map((u) => el("option", { value: u.id }, `${u.call_sign} · no fix`)));
    const hist = $("#d-history");
    if (hist) {
      const c = r.data.counts || {};
      hist.textContent = r.data.location ? `Prior calls here: ${c.last_24h || 0} / 24 h · ${c.last_7d || 0} / 7 d · ${c.last_90d || 0} / 90 d` : "";
      const hz = (r.data.notes || []).filter((n) => n.kind === "hazard");
      if (hz.length) hist.append(el("div", { class: "hazards" }, "⚠ " + hz.map((n) => n.text).join(" · ")));
    }
  }

  function renderDetail() {
    const c = state.detail;
    const open = !["closed", "cancelled"].includes(c.status);
    const statusOptions = [["en_route", "En route"], ["on_scene", "On scene"], ["cleared", "Cleared"], ["cancelled", "Cancelled"]];
    const body = [
      el("h2", {}, `${c.number} · ${c.type_name} `, el("span", { class: `badge p${c.priority}` }, `P${c.priority}`), " ", el("span", { class: "badge", id: "d-status" }, c.status_label)),
      el("dl", { class: "facts" },
        el("dt", {}, "Location"), el("dd", {}, c.address || "—"),
        el("dt", {}, "Received"), el("dd", {}, fmtTime(c.timestamps.received)),
        c.caller_name !== null ? [el("dt", {}, "Caller"), el("dd", {}, `${c.caller_name || ""} ${c.caller_phone || ""}`)] : null,
        el("dt", {}, "Narrative"), el("dd", { class: "narrative" }, c.narrative || ""),
        c.disposition ? [el("dt", {}, "Disposition"), el("dd", {}, c.disposition)] : null),
      el("p", { id: "d-history", class: "muted" }),
    ];
    if (open) {
      body.push(el("div", { class: "actions" },
        el("label", {}, "Assign ", el("kbd", {}, "Alt+U"), el("select", { id: "d-unit" }, el("option", { value: "" }, "— unit —"))),
        el("button", { type: "button", id: "d-assign", onclick: assignUnit }, "Assign"),
        el("label", {}, "Status ", el("kbd", {}, "Alt+S"), el("select", { id: "d-status-select" }, el("option", { value: "" }, "—"), statusOptions.map(([v, l]) => el("option", { value: v }, l)))),
        el("button", { type: "button", id: "d-status-apply", onclick: changeStatus }, "Set"),
        el("label", {}, "Close ", el("kbd", {}, "Alt+C"), el("select", { id: "d-disposition" }, el("option", { value: "" }, "— disposition —"), config.dispositions.map((d) => el("option", { value: d.code }, d.name)))),
        el("button", { type: "button", id: "d-close", onclick: closeCall }, "Close call")));
      body.push(el("form", { class: "note", onsubmit: addNote }, el("input", { id: "d-note", placeholder: "Add a note (Alt+O), Enter to save", maxlength: "20000" })));
    }
    body.push(el("div", { class: "errors", id: "d-errors", role: "alert" }));
    body.push(el("h3", {}, "Units"), el("ul", { class: "assignments" }, c.assignments.length ? c.assignments.map((a) => el("li", { class: a.open ? "" : "muted" },
      el("b", {}, a.call_sign), ` assigned ${fmtTime(a.assigned_at)}`, a.en_route_at ? ` · en route ${fmtTime(a.en_route_at)}` : "",
      a.on_scene_at ? ` · on scene ${fmtTime(a.on_scene_at)}` : "", a.cleared_at ? ` · cleared ${fmtTime(a.cleared_at)}` : "")) : el("li", { class: "muted" }, "None")));
    if (c.involvements.length) body.push(el("h3", {}, "Involved"), el("ul", { id: "d-involved" }, c.involvements.map((i) => el("li", {}, `${i.role}: ${i.label}`))));
    body.push(el("h3", {}, "Timeline"), el("ol", { class: "timeline" }, c.events.map((e) => el("li", {}, el("time", {}, fmtTime(e.at)), " ", el("b", {}, e.kind_label), " ",
      e.text || "", e.data && e.data.old ? ` ${e.data.old} → ${e.data.new}` : "", e.data && e.data.unit ? ` ${e.data.unit}${e.data.status ? " " + e.data.status : ""}` : "",
      e.data && e.data.changes ? " " + Object.entries(e.data.changes).map(([k, v]) => `${k}: ${v.old} → ${v.new}`).join("; ") : "", el("small", {}, ` ${e.actor}`)))));
    $("#detail").replaceChildren(...body);
  }

  // What a 409 says the call or unit is now (another dispatcher got there first).
  function conflictNote(current) {
    if (!current || !current.status) return "";
    const status = current.status.replace("_", " ");
    if (current.unit) return `Now: ${current.unit} is ${status}${current.call ? ` on ${current.call}` : ""}.`;
    const units = current.units && current.units.length ? `units ${current.units.join(", ")}` : "no units";
    return `Now: ${current.number} is ${status}, ${units}.`;
  }
  // A refused write shows why; a 409 also redraws the queue, the board and the call from the
  // server, so the dispatcher acts on what is true now rather than on the screen they had.
  async function refused(r) {
    const message = errorText(r.data);
    if (r.status !== 409) { const box = $("#d-errors"); if (box) box.textContent = message; return false; }
    await resync();
    if (state.selectedId) await selectCall(state.selectedId);
    const box = $("#d-errors");
    if (box) { box.textContent = [message, conflictNote(r.data && r.data.current), "The screen now shows the current state."].filter(Boolean).join("\n"); box.dataset.conflict = "true"; }
    return false;
  }
  async function detailAction(url, body) {
    const r = await api("POST", url, body);
    if (!r.ok) return refused(r);
    await resync();
    if (state.selectedId) await selectCall(state.selectedId);
    return true;
  }
  async function assignUnit() {
    const unit = $("#d-unit").value;
    if (!unit) { $("#d-errors").textContent = "Choose a unit."; return; }
    await detailAction(`${config.urls.api}calls/${state.detail.id}/assign/`, { unit: Number(unit) });
  }
  async function changeStatus() {
    const status = $("#d-status-select").value;
    if (!status) { $("#d-errors").textContent = "Choose a status."; return; }
    if (["en_route", "on_scene"].includes(status)) {
      // Unit statuses drive the call: set them on every open unit of the call, each only if it
      // still has the status this screen shows (else 409, and the screen is redrawn).
      const open = state.detail.assignments.filter((a) => a.open);
      if (!open.length) { $("#d-errors").textContent = "Assign a unit first."; return; }
      for (const a of open) {
        const shown = state.units.find((u) => u.id === a.unit_id);
        const body = shown ? { status, expected_status: shown.status } : { status };
        const r = await api("POST", `${config.urls.api}units/${a.unit_id}/status/`, body);
        if (!r.ok) { await refused(r); return; }
      }
      await resync(); await selectCall(state.detail.id); return;
    }
    await detailAction(`${config.urls.api}calls/${state.detail.id}/status/`, { status, version: state.detail.version });
  }
  async function closeCall() {
    const disposition = $("#d-disposition").value;
    if (!disposition) { $("#d-errors").textContent = "disposition: Choose how the call ended."; $("#d-disposition").focus(); return; }
    await detailAction(`${config.urls.api}calls/${state.detail.id}/close/`, { disposition, version: state.detail.version });
  }
  async function addNote(e) {
    e.preventDefault();
    const text = $("#d-note").value.trim();
    if (!text) return;
    if (await detailAction(`${config.urls.api}calls/${state.detail.id}/notes/`, { text })) $("#d-note") && ($("#d-note").value = "");
  }

  // ---- sync & live ------------------------------------------------------------
  async function resync() {
    const r = await api("GET", config.urls.snapshot);
    if (!r.ok) return;
    state.calls = r.data.calls; state.units = r.data.units;
    // What the server says now replaces the versions events brought (and keeps the map small).
    seenVersion.clear();
    for (const c of state.calls) seenVersion.set(c.id, c.version);
    renderQueue(); renderUnits();
    map.setCalls(state.calls); map.setUnits(state.units); map.setHazards(r.data.hazards || []); map.setAreas(r.data.areas || []);
  }
  const refreshDetailSoon = debounce(() => { if (state.selectedId) selectCall(state.selectedId); }, 120);

  // ---- live events, applied in place --------------------------------------------
  // Call events carry the call's queue row and AVL moves arrive batched (units_moved), so the
  // console updates what it shows without re-reading the board: with 50 consoles, a re-read
  // after every burst of events was the server's largest request load (docs/benchmarks.md).
  // Events without a row (unit status, partner alerts) re-read the board, at most once a second.
  const OPEN = new Set(config.openStatuses);
  const seenVersion = new Map(); // call id -> newest version applied (closed calls included)
  function byQueueOrder(a, b) { return a.priority - b.priority || Date.parse(a.received_at) - Date.parse(b.received_at); }
  function applyCallRow(row) {
    // Events from several server processes can overtake each other: an older version never
    // replaces a newer one, and a closed call does not come back.
    if ((seenVersion.get(row.id) || 0) > row.version) return;
    seenVersion.set(row.id, row.version);
    const rest = state.calls.filter((c) => c.id !== row.id);
    state.calls = OPEN.has(row.status) ? [...rest, row].sort(byQueueOrder) : rest;
    renderSoon({ calls: true });
  }
  function applyMoves(items) {
    const now = Date.now();
    for (const m of items) {
      const u = state.units.find((x) => x.id === m.unit_id);
      if (!u) continue; // a unit this console does not show (a resync adds new units)
      Object.assign(u, { latitude: m.latitude, longitude: m.longitude, heading: m.heading, position_at: m.position_at, fix_age_s: ageSeconds(m.position_at, now) });
    }
    renderSoon({ units: true });
  }
  // Redraws are batched: a burst of events costs one redraw of the queue, board and map.
  const dirty = { calls: false, units: false };
  let redrawTimer = null;
  function renderSoon(parts) {
    Object.assign(dirty, parts);
    if (redrawTimer) return;
    redrawTimer = setTimeout(() => {
      redrawTimer = null;
      if (dirty.calls) { renderQueue(); map.setCalls(state.calls); }
      if (dirty.units) { renderUnits(); map.setUnits(state.units); }
      dirty.calls = dirty.units = false;
    }, 150);
  }
  // A full re-read at most once a second, whatever the rate of events asking for one.
  let lastResync = 0, resyncTimer = null;
  function resyncSoon() {
    if (resyncTimer) return;
    const wait = Math.max(80, 1000 - (Date.now() - lastResync));
    resyncTimer = setTimeout(() => { resyncTimer = null; lastResync = Date.now(); resync(); }, wait);
  }

  function setConn(s) {
    const box = $("#conn");
    box.dataset.state = s;
    box.textContent = { connecting: "Connecting…", live: "Live", reconnecting: "Connection lost — reconnecting…", denied: "Not authorised for live updates" }[s] || s;
  }
  const socket = new LiveSocket(config.urls.ws, {
    onState: setConn,
    onResync: () => { resync(); refreshDetailSoon(); },
    onEvent: (ev) => {
      if (ev.type === "access.changed") {
        // The access rules changed: re-read everything shown, so what this user may no longer
        // see (persons, notes, findings) disappears without signing out.
        resyncSoon(); refreshDetailSoon(); refreshContext(); return;
      }
      if (ev.type === "units_moved") { applyMoves(ev.items || []); return; }
      if (ev.row) applyCallRow(ev.row);
      else resyncSoon();
      if (state.selectedId && ev.call_id === state.selectedId) refreshDetailSoon();
    },
  });
  window.beaconConsole = { socket, resync, state };
  socket.connect();
  setInterval(resync, 60000); // belt and braces: a missed event heals within a minute

  function flash(text) {
    const f = el("div", { class: "flash", role: "status" }, text);
    document.body.append(f);
    setTimeout(() => f.remove(), 2500);
  }

  // ---- keyboard ---------------------------------------------------------------
  function focusQueue(delta) {
    if (!state.calls.length) return;
    const idx = Math.max(0, Math.min(state.calls.length - 1, state.queueIndex + delta));
    state.queueIndex = idx;
    const row = document.querySelector(`#queue-table tbody tr[data-index="${idx}"]`);
    document.querySelectorAll("#queue-table tr.cursor").forEach((r) => r.classList.remove("cursor"));
    if (row) { row.classList.add("cursor"); row.focus(); }
  }
  document.addEventListener("keydown", (e) => {
    const k = e.key.toLowerCase();
    if (e.key === "F2" || (e.altKey && k === "n")) { e.preventDefault(); resetIntake(); return; }
    if (e.altKey && k === "a") { e.preventDefault(); address.focus(); return; }
    if (e.altKey && k === "q") { e.preventDefault(); focusQueue(0); return; }
    if (e.altKey && k === "u") { e.preventDefault(); $("#d-unit") && $("#d-unit").focus(); return; }
    if (e.altKey && k === "s") { e.preventDefault(); $("#d-status-select") && $("#d-status-select").focus(); return; }
    if (e.altKey && k === "c") { e.preventDefault(); $("#d-disposition") && $("#d-disposition").focus(); return; }
    if (e.altKey && k === "o") { e.preventDefault(); $("#d-note") && $("#d-note").focus(); return; }
    if (e.ctrlKey && e.key === "Enter" && $("#intake").contains(document.activeElement)) { e.preventDefault(); $("#intake").requestSubmit(); return; }
    const inQueue = document.activeElement && document.activeElement.closest && document.activeElement.closest("#queue-table");
    if (inQueue && e.key === "ArrowDown") { e.preventDefault(); focusQueue(1); return; }
    if (inQueue && e.key === "ArrowUp") { e.preventDefault(); focusQueue(-1); return; }
    if (inQueue && e.key === "Enter") { e.preventDefault(); const c = state.calls[state.queueIndex]; if (c) selectCall(c.id); return; }
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (!typing && e.key === "?") { $("#shortcuts").classList.toggle("big"); }
    // Enter on the unit picker assigns; on status/disposition pickers applies.
    if (e.key === "Enter" && document.activeElement.id === "d-unit") { e.preventDefault(); assignUnit(); }
    if (e.key === "Enter" && document.activeElement.id === "d-status-select") { e.preventDefault(); changeStatus(); }
    if (e.key === "Enter" && document.activeElement.id === "d-disposition") { e.preventDefault(); closeCall(); }
  });

  typeSelect.focus();
})();
