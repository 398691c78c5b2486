/* Execution board: every assignment of the agency by status; re-read on every assignment event and
   every (re)connect, so an acknowledgement from the field shows here within a second. */
(function () {
  "use strict";
  const { api, errorText, LiveSocket, fmtTime, el, debounce } = window.Beacon;
  const config = JSON.parse(document.getElementById("tasking-config").textContent);
  const state = { rows: [], versions: new Map() };

  function minutesBetween(a, b) {
    if (!a || !b) return null;
    return Math.round((Date.parse(b) - Date.parse(a)) / 60000);
  }

  /* "2/4 windows met · next Fri 19:00": closed windows only; open and future ones are not judged. */
  function dosageCell(r) {
    const d = r.dosage;
    if (!d) return el("td", { class: "muted" }, "");
    const parts = [];
    if (!d.measured) parts.push(el("span", { class: "muted" }, "not measured"));
    else if (d.past) parts.push(el("span", { class: d.met === d.past ? "met" : (d.met ? "" : "unmet") }, `${d.met}/${d.past} windows met`));
    else parts.push(el("span", { class: "muted" }, "no window closed yet"));
    if (d.next_start) parts.push(el("span", { class: "muted" }, ` · next ${fmtTime(d.next_start)}`));
    return el("td", { id: `assignment-row-dosage-${r.id}` }, ...parts);
  }

  async function act(id, action, body) {
    const r = await api("POST", `${config.urls.api}assignments/${id}/${action}/`, body);
    document.getElementById("board-errors").textContent = r.ok ? "" : errorText(r.data);
    await refresh();
  }

  function render() {
    const counts = {};
    for (const r of state.rows) counts[r.status_label] = (counts[r.status_label] || 0) + 1;
    document.getElementById("board-counts").textContent =
      Object.entries(counts).map(([k, v]) => `${k}: ${v}`).join(" · ") || "No assignments yet.";
    const body = document.getElementById("assignment-rows");
    body.replaceChildren(...state.rows.map((r) => {
      const ackMin = minutesBetween(r.issued_at, r.acknowledged_at);
      const changed = state.versions.has(r.id) && state.versions.get(r.id) !== r.version;
      const actions = el("td", {});
      if (config.may_task && r.status === "draft") actions.append(el("button", { type: "button", onclick: () => act(r.id, "issue") }, "Issue"));
      if (config.may_task && ["draft", "issued", "acknowledged", "in_progress"].includes(r.status)) {
        actions.append(el("button", { type: "button", class: "secondary", onclick: () => act(r.id, "cancel", { reason: "" }) }, "Cancel"));
      }
      return el("tr", { id: `assignment-row-${r.id}`, class: changed ? "flash" : "", dataset: { status: r.status } },
        el("td", {}, el("a", { href: r.url, id: `assignment-link-${r.id}` }, String(r.id))),
        el("td", { class: `status a-${r.status}`, id: `assignment-row-status-${r.id}` }, r.status_label),
        el("td", {}, r.kind_label, r.manual ? el("span", { class: "muted" }, " (manual)") : null),
        el("td", { class: "wrap" }, r.objective),
        el("td", {}, r.assignee),
        el("td", {}, `P${r.priority}`),
        dosageCell(r),
        el("td", {}, fmtTime(r.issued_at)),
        el("td", { id: `assignment-row-ack-${r.id}` }, r.acknowledged_at ? `${fmtTime(r.acknowledged_at)}${ackMin !== null ? ` (${ackMin} min)` : ""}${r.acknowledged_by ? " · " + r.acknowledged_by : ""}` : (r.status === "issued" ? el("span", { class: "ack-late" }, "not yet") : "")),
        el("td", {}, fmtTime(r.started_at)),
        el("td", {}, fmtTime(r.finished_at)),
        actions);
    }));
    if (!state.rows.length) body.replaceChildren(el("tr", {}, el("td", { colspan: 12, class: "muted" }, "No assignments yet.")));
    state.versions = new Map(state.rows.map((r) => [r.id, r.version]));
  }

  async function refresh() {
    const r = await api("GET", config.urls.board);
    if (!r.ok) return;
    state.rows = r.data.rows;
    render();
  }
  const refreshSoon = debounce(refresh, 80);

  function setConn(s) {
    const box = document.getElementById("conn");
    box.dataset.state = s;
    box.textContent = { connecting: "Connecting…", live: "Live", reconnecting: "Offline — reconnecting…", denied: "Not authorised" }[s] || s;
  }
  const socket = new LiveSocket(config.urls.ws, {
    onState: setConn,
    onResync: refresh,
    onEvent: (e) => { if (e.type === "access.changed" || String(e.type).startsWith("assignment.")) refreshSoon(); },
  });
  window.beaconTasking = { socket, refresh, state };
  socket.connect();
  setInterval(refresh, 60000);
})();
