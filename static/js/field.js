/* Field view: my unit's call, status buttons, recent calls, AVL sharing with an offline queue, live cue. */
(function () {
  "use strict";
  const { api, errorText, LiveSocket, fmtTime, el, debounce } = window.Beacon;
  const config = JSON.parse(document.getElementById("field-config").textContent);
  const QUEUE_KEY = "beacon.avl.queue";
  const state = { units: [], knownCalls: new Set(), first: true, audio: null, watch: null };

  function beep() {
    if (navigator.vibrate) navigator.vibrate([300, 100, 300]);
    if (!state.audio) return;
    const ctx = state.audio, osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.2;
    osc.connect(gain); gain.connect(ctx.destination);
    osc.start(); osc.stop(ctx.currentTime + 0.4);
  }

  function render() {
    const root = document.getElementById("units");
    root.replaceChildren(...state.units.map((u) => {
      const call = u.call;
      const card = el("section", { class: "card unit-card", dataset: { unit: u.unit.id } },
        el("h1", {}, u.unit.call_sign, " ", el("span", { class: `status s-${u.unit.status}`, id: `unit-status-${u.unit.id}` }, u.unit.status_label)));
      if (call) {
        card.append(el("div", { class: "current-call", id: `current-call-${u.unit.id}` },
          el("h2", {}, `${call.number} · ${call.type_name} `, el("span", { class: `badge p${call.priority}` }, `P${call.priority}`)),
          el("p", { class: "address" }, call.address || "—"),
          call.narrative ? el("p", {}, call.narrative) : null,
          u.hazards.length ? el("div", { class: "hazards", role: "alert" }, el("b", {}, "⚠ Hazards"), el("ul", {}, u.hazards.map((h) => el("li", {}, h.text)))) : null,
          call.latitude !== null ? el("a", { class: "nav-link", href: `geo:${call.latitude},${call.longitude}` }, "Open in maps") : null));
        const btns = el("div", { class: "status-buttons" },
          el("button", { type: "button", class: "big", dataset: { status: "en_route" }, disabled: u.unit.status !== "dispatched" }, "En route"),
          el("button", { type: "button", class: "big", dataset: { status: "on_scene" }, disabled: !["dispatched", "en_route"].includes(u.unit.status) }, "On scene"),
          el("button", { type: "button", class: "big primary", dataset: { status: "available" } }, "Clear"));
        btns.addEventListener("click", (e) => { const b = e.target.closest("button"); if (b) setStatus(u.unit.id, b.dataset.status); });
        card.append(btns);
      } else {
        card.append(el("p", { class: "muted" }, "No call assigned."));
        const other = u.unit.status === "available" ? ["out_of_service", "Out of service"] : ["available", "Available"];
        const b = el("button", { type: "button", class: "big secondary", onclick: () => setStatus(u.unit.id, other[0]) }, other[1]);
        card.append(b);
      }
      card.append(el("div", { class: "errors", id: `unit-errors-${u.unit.id}`, role: "alert" }));
      card.append(el("details", {}, el("summary", {}, `Recent calls (${u.recent.length})`),
        el("ul", { class: "recent" }, u.recent.map((c) => el("li", {}, `${fmtTime(c.received_at)} ${c.number} ${c.type_name} — ${c.address || ""} (${c.status_label})`)))));
      return card;
    }));
  }

  async function setStatus(unitId, status) {
    const r = await api("POST", `${config.urls.api}units/${unitId}/status/`, { status });
    if (!r.ok) {
      const message = errorText(r.data);
      // 409: the unit or its call changed elsewhere (a dispatcher cleared it, another device):
      // show what it is now, then say why the button did nothing (the redraw empties the box).
      if (r.status === 409) await refresh();
      const box = document.getElementById(`unit-errors-${unitId}`);
      if (box) box.textContent = message;
      return;
    }
    await refresh();
  }

  async function refresh() {
    const r = await api("GET", config.urls.snapshot);
    if (!r.ok) return;
    state.units = r.data.units;
    let fresh = false;
    for (const u of state.units) {
      if (u.call && !state.knownCalls.has(u.call.id)) { state.knownCalls.add(u.call.id); if (!state.first) fresh = true; }
    }
    state.first = false;
    render();
    if (fresh) {
      beep();
      document.body.classList.add("alerting");
      setTimeout(() => document.body.classList.remove("alerting"), 3000);
    }
  }
  const refreshSoon = debounce(refresh, 80);

  // ---- AVL: batched, queued while offline, idempotent on the server by fix time ----
  function queue() { try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; } }
  function saveQueue(q) { localStorage.setItem(QUEUE_KEY, JSON.stringify(q.slice(-2000))); }
  async function flush() {
    const q = queue();
    if (!q.length || !config.units.length) return;
    const batch = q.slice(0, 500);
    const r = await api("POST", `${config.urls.api}units/${config.units[0].id}/positions/`, { positions: batch });
    if (r.ok) { saveQueue(queue().slice(batch.length)); document.getElementById("avl-state").textContent = `Sharing location · last sent ${new Date().toLocaleTimeString()}`; }
    else if (r.status >= 400 && r.status < 500) { saveQueue(queue().slice(batch.length)); } // rejected fixes would block the queue forever
    else { document.getElementById("avl-state").textContent = `Offline: ${queue().length} position(s) queued`; }
  }
  function startAvl() {
    if (!navigator.geolocation) { document.getElementById("avl-state").textContent = "This browser cannot share location."; return; }
    state.watch = navigator.geolocation.watchPosition((pos) => {
      const q = queue();
      q.push({ recorded_at: new Date(pos.timestamp).toISOString(), latitude: pos.coords.latitude, longitude: pos.coords.longitude,
        heading: Number.isFinite(pos.coords.heading) ? pos.coords.heading : null, speed: Number.isFinite(pos.coords.speed) ? pos.coords.speed : null,
        accuracy: pos.coords.accuracy });
      saveQueue(q);
    }, (err) => { document.getElementById("avl-state").textContent = "Location unavailable: " + err.message; }, { enableHighAccuracy: true, maximumAge: 5000 });
    setInterval(flush, 10000);
    document.getElementById("avl-state").textContent = "Sharing location.";
  }
  document.getElementById("enable").addEventListener("click", () => {
    try { state.audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { state.audio = null; }
    localStorage.setItem("beacon.consent", "yes");
    startAvl();
    document.getElementById("enable").disabled = true;
  });
  if (localStorage.getItem("beacon.consent") === "yes") startAvl();
  window.addEventListener("online", flush);

  function setConn(s) {
    const box = document.getElementById("conn");
    box.dataset.state = s;
    box.textContent = { connecting: "Connecting…", live: "Live", reconnecting: "Offline — reconnecting…", denied: "Not authorised" }[s] || s;
  }
  // Other scripts of this page (field-assignments.js) listen for the same feed instead of opening a second socket.
  const announce = (name, detail) => window.dispatchEvent(new CustomEvent(name, { detail }));
  const socket = new LiveSocket(config.urls.ws, {
    onState: setConn,
    onResync: () => { refresh(); announce("beacon:resync"); },
    onEvent: (event) => {
      // access.changed: the rules changed; re-read the page's data like after a reconnect.
      if (event.type === "access.changed") { refreshSoon(); announce("beacon:resync"); return; }
      if (!String(event.type).startsWith("assignment.")) refreshSoon();
      announce("beacon:event", event);
    },
  });
  window.beaconField = { socket, refresh, state };
  socket.connect();
  setInterval(refresh, 60000);
})();
