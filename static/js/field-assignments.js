/* Field view, assignments: what my units and I were tasked with, delivered live and never lost.
   The list is always re-read from assignments/pending/ (on load, on every (re)connect, on every
   assignment event and every 60 s), so a missed push costs at most a minute. Taps made while
   offline are queued and replayed: acknowledging is idempotent and reports carry a client_ref. */
(function () {
  "use strict";
  const { api, errorText, el, debounce, fmtTime } = window.Beacon;
  const config = JSON.parse(document.getElementById("field-config").textContent);
  const BASE = `${config.urls.api}assignments/`;
  const QUEUE_KEY = "beacon.assignments.queue";
  const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  const state = { rows: [], known: null, fresh: new Set(), openReport: null, audio: null };

  function audio() {
    // The page's consent button makes the AudioContext field.js owns; reuse it, or make our own on a tap.
    const shared = window.beaconField && window.beaconField.state.audio;
    return shared || state.audio;
  }
  document.addEventListener("click", () => {
    if (!audio()) { try { state.audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { state.audio = null; } }
  }, { once: true });

  function beep() {
    if (navigator.vibrate) navigator.vibrate([200, 100, 200, 100, 200]);
    const ctx = audio();
    if (!ctx) return;
    if (ctx.state === "suspended") ctx.resume();
    [0, 0.25].forEach((offset, i) => {
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = i ? 1175 : 988; gain.gain.value = 0.25;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(ctx.currentTime + offset); osc.stop(ctx.currentTime + offset + 0.2);
    });
  }

  // ---- taps made offline: replayed in order when the network returns ----
  function queue() { try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; } }
  function saveQueue(q) { localStorage.setItem(QUEUE_KEY, JSON.stringify(q.slice(-200))); }
  async function flushQueue() {
    let q = queue();
    while (q.length) {
      const r = await api("POST", q[0].url, q[0].body);
      if (r.status === 0 || r.status >= 500) return; // still offline: keep it
      q = queue().slice(1); saveQueue(q); // done, or refused (409: someone else moved it) - either way settled
    }
  }

  async function post(url, body, errBox) {
    const r = await api("POST", url, body);
    if (r.status === 0) {
      const q = queue(); q.push({ url, body }); saveQueue(q);
      if (errBox) errBox.textContent = "Offline: saved, will be sent when back online.";
      return r;
    }
    if (!r.ok && errBox) errBox.textContent = errorText(r.data);
    return r;
  }

  function areaText(area) {
    if (!area) return "—";
    if (area.type === "circle") return `${Math.round(area.radius_m)} m around ${area.latitude.toFixed(5)}, ${area.longitude.toFixed(5)}`;
    if (area.type === "cells") return `${area.cells.length} map cell${area.cells.length === 1 ? "" : "s"}`;
    if (area.type === "polygon") return `Drawn area (${area.points.length} corners)`;
    return area.type;
  }
  function windowText(w) {
    if (w.kind === "weekly") {
      const days = (w.weekdays || []).map((d) => DAYS[d] || d).join(", ");
      return `${days} ${w.start} for ${w.duration_minutes} min, ${w.weeks} week${w.weeks === 1 ? "" : "s"} from ${w.first_date}`;
    }
    if (w.kind === "once") return `${fmtTime(w.start)} – ${fmtTime(w.end)}`;
    return JSON.stringify(w);
  }

  function card(a) {
    const errBox = el("div", { class: "errors", role: "alert", id: `assignment-errors-${a.id}` });
    const act = async (action, body) => {
      errBox.textContent = "";
      const r = await post(`${BASE}${a.id}/${action}/`, body, errBox);
      if (r.ok) { state.fresh.delete(a.id); await load(); }
    };
    const d = a.dosage || {};
    const node = el("article", { class: `assignment-card${state.fresh.has(a.id) ? " new" : ""}${a.status === "issued" ? " unacknowledged" : ""}`, id: `assignment-${a.id}`, dataset: { status: a.status } },
      el("h2", {}, `${a.kind_label} `, el("span", { class: `badge p${a.priority}` }, `P${a.priority}`), " ",
        el("span", { class: `status a-${a.status}`, id: `assignment-status-${a.id}` }, a.status_label)),
      el("p", { class: "objective" }, a.objective),
      el("p", { class: "muted" }, `For ${a.assignee.label}${a.manual ? " · manual" : ""} · issued ${fmtTime(a.issued_at)}${a.issued_by ? " by " + a.issued_by : ""}`),
      el("p", {}, el("b", {}, "Area: "), areaText(a.area),
        a.area && a.area.type === "circle" ? el("a", { class: "nav-link", href: `geo:${a.area.latitude},${a.area.longitude}` }, " Open in maps") : null),
      el("ul", { class: "windows" }, (a.windows || []).map((w) => el("li", {}, windowText(w)))),
      d.minutes_per_visit ? el("p", {}, el("b", {}, "Dosage: "), `${d.minutes_per_visit} min per visit, at least ${d.visits_per_window} visit${d.visits_per_window === 1 ? "" : "s"} per window`) : null,
      el("details", { open: state.fresh.has(a.id) || a.status === "issued" }, el("summary", {}, "Briefing"), el("pre", { class: "briefing" }, a.briefing)),
      // The full page: the area on a map, windows met so far, history (the server checks access).
      el("p", {}, el("a", { class: "nav-link", id: `assignment-page-${a.id}`, href: `/tasking/${a.id}/` }, "Map, dosage and history")));
    const btns = el("div", { class: "status-buttons" },
      a.status === "issued" ? el("button", { type: "button", class: "big primary", id: `ack-${a.id}`, onclick: () => act("acknowledge") }, "Acknowledge") : null,
      a.status !== "in_progress" ? el("button", { type: "button", class: "big", id: `start-${a.id}`, onclick: () => act("start") }, "Start") : null,
      el("button", { type: "button", class: "big secondary", id: `report-${a.id}`, onclick: () => { state.openReport = state.openReport === a.id ? null : a.id; render(); } }, "Report"));
    node.append(btns);
    if (state.openReport === a.id) node.append(reportForm(a, errBox));
    node.append(errBox);
    return node;
  }

  function reportForm(a, errBox) {
    const notes = el("textarea", { name: "notes", rows: 3, id: `report-notes-${a.id}`, required: true });
    const contacts = el("input", { type: "number", name: "contacts_made", min: 0, value: 0, id: `report-contacts-${a.id}` });
    const outcome = el("select", { name: "outcome", id: `report-outcome-${a.id}` },
      el("option", { value: "" }, "Still working on it"),
      el("option", { value: "completed" }, "Completed"),
      el("option", { value: "partially_completed" }, "Partially completed"),
      el("option", { value: "missed" }, "Missed"));
    const form = el("form", { class: "report-form" },
      el("label", { for: `report-notes-${a.id}` }, "What was done"), notes,
      el("label", { for: `report-contacts-${a.id}` }, "Contacts made"), contacts,
      el("label", { for: `report-outcome-${a.id}` }, "Outcome"), outcome,
      el("button", { type: "submit", class: "big primary" }, "Send report"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      errBox.textContent = "";
      const clientRef = `${a.id}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
      const r = await post(`${BASE}${a.id}/report/`, { notes: notes.value, contacts_made: Number(contacts.value || 0), client_ref: clientRef }, errBox);
      if (!r.ok && r.status !== 0) return;
      if (outcome.value) await post(`${BASE}${a.id}/finish/`, { outcome: outcome.value }, errBox);
      state.openReport = null;
      await load();
    });
    return form;
  }

  function render() {
    const root = document.getElementById("assignment-list");
    if (!state.rows.length) { root.replaceChildren(el("p", { class: "muted", id: "no-assignments" }, "No open assignments.")); return; }
    root.replaceChildren(...state.rows.map(card));
  }

  async function load() {
    await flushQueue();
    const r = await api("GET", `${BASE}pending/`);
    if (!r.ok) return;
    state.rows = r.data;
    const ids = new Set(r.data.map((a) => a.id));
    const arrived = state.known === null ? [] : r.data.filter((a) => !state.known.has(a.id));
    state.known = ids;
    for (const a of arrived) state.fresh.add(a.id);
    render();
    if (arrived.length) {
      const box = document.getElementById("assignment-alert");
      box.hidden = false;
      box.textContent = arrived.length === 1 ? `New assignment: ${arrived[0].kind_label} — ${arrived[0].objective}` : `${arrived.length} new assignments`;
      beep();
      document.getElementById("assignments").classList.add("alerting");
      setTimeout(() => { document.getElementById("assignments").classList.remove("alerting"); box.hidden = true; }, 6000);
    }
  }
  const loadSoon = debounce(load, 80);

  window.addEventListener("beacon:event", (e) => { if (String(e.detail.type).startsWith("assignment.")) loadSoon(); });
  window.addEventListener("beacon:resync", loadSoon);
  window.addEventListener("online", load);
  window.beaconAssignments = { load, state };
  load();
  setInterval(load, 60000);
})();
