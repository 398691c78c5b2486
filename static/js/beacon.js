/* Beacon shared browser helpers: API calls with CSRF, a reconnecting live socket, formatting. */
(function (global) {
  "use strict";

  function cookie(name) {
    const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  // When a person last pressed a key, clicked or touched this page. Requests made long after
  // that (timers, pushes) are marked background so they do not keep an idle session alive
  // (governance/session_security.py).
  let lastTouch = Date.now();
  const TOUCH_WINDOW_MS = 5000;
  ["keydown", "pointerdown", "wheel", "touchstart"].forEach((name) =>
    document.addEventListener(name, () => { lastTouch = Date.now(); }, { capture: true, passive: true }));

  /** JSON request; resolves {ok, status, data}. Never throws for HTTP errors. */
  async function api(method, url, body) {
    const opts = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (Date.now() - lastTouch > TOUCH_WINDOW_MS) opts.headers["X-Beacon-Background"] = "1";
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    if (method !== "GET") opts.headers["X-CSRFToken"] = cookie("csrftoken");
    try {
      const resp = await fetch(url, opts);
      let data = null;
      try { data = await resp.json(); } catch (e) { data = null; }
      return { ok: resp.ok, status: resp.status, data };
    } catch (e) {
      return { ok: false, status: 0, data: { detail: "Network error: " + e.message } };
    }
  }

  /** Turn a DRF/domain error body into one readable line per field. */
  function errorText(data) {
    if (!data) return "Request failed.";
    if (typeof data === "string") return data;
    return Object.entries(data)
      .filter(([k]) => k !== "current")
      .map(([k, v]) => (k === "detail" || k === "non_field_errors" ? "" : k + ": ") + (Array.isArray(v) ? v.join(" ") : typeof v === "object" ? JSON.stringify(v) : v))
      .join("\n");
  }

  /**
   * A websocket that reconnects with backoff. onResync() runs after every (re)connect, so a client
   * that was offline fetches what it missed from the server: a push is never the only copy.
   */
  class LiveSocket {
    constructor(path, { onEvent, onResync, onState }) {
      this.path = path; this.onEvent = onEvent; this.onResync = onResync; this.onState = onState || (() => {});
      this.delay = 500; this.ws = null; this.closedByUs = false; this.pingTimer = null;
    }
    url() {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      return proto + "//" + location.host + this.path;
    }
    connect() {
      this.onState("connecting");
      const ws = new WebSocket(this.url());
      this.ws = ws;
      ws.onopen = () => {
        this.delay = 500;
        this.onState("live");
        this.onResync();
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => { if (ws.readyState === 1) ws.send('{"type":"ping"}'); }, 25000);
      };
      ws.onmessage = (msg) => {
        let event; try { event = JSON.parse(msg.data); } catch (e) { return; }
        if (event.type === "hello" || event.type === "pong") return;
        // A busy agency's events arrive several to a frame, in order (dispatch/consumers.py).
        if (event.type === "batch") {
          // Each on its own: a page handler that throws on one must not drop the rest.
          for (const e of Array.isArray(event.events) ? event.events : []) {
            try { this.onEvent(e); } catch (err) { console.error(err); }
          }
          return;
        }
        this.onEvent(event);
      };
      ws.onclose = (e) => {
        clearInterval(this.pingTimer);
        if (this.closedByUs) return;
        if (e.code === 4401) {
          // Signed out (idle timeout, or elsewhere): reload so the server shows the sign-in page.
          // At most once a minute, so a socket refused for another reason cannot loop the page.
          this.onState("denied");
          const last = Number(sessionStorage.getItem("beacon.reloadedFor4401") || 0);
          if (Date.now() - last > 60000) { sessionStorage.setItem("beacon.reloadedFor4401", String(Date.now())); location.reload(); }
          return;
        }
        if (e.code === 4403) { this.onState("denied"); return; }
        this.onState("reconnecting");
        setTimeout(() => this.connect(), this.delay);
        this.delay = Math.min(this.delay * 2, 5000);
      };
      ws.onerror = () => { try { ws.close(); } catch (e) { /* closing */ } };
    }
    /** Test hook and "simulate outage" aid: drop the connection as a network fault would. */
    drop() { if (this.ws) this.ws.close(); }
  }

  function ageSeconds(iso, now) {
    if (!iso) return null;
    return Math.max(0, Math.round(((now || Date.now()) - Date.parse(iso)) / 1000));
  }

  function fmtAge(s) {
    if (s === null || s === undefined) return "—";
    if (s < 3600) return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
    return Math.floor(s / 3600) + "h" + String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  }

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return d.toLocaleString([], { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  }

  /** Threshold class for an age: "" / "amber" / "red". */
  function ageClass(seconds, thresholds) {
    if (!thresholds || seconds === null) return "";
    if (seconds >= thresholds[1]) return "red";
    if (seconds >= thresholds[0]) return "amber";
    return "";
  }

  /** Build an element: el("td", {class: "x"}, "text", child...). Text is never parsed as HTML. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function debounce(fn, ms) {
    let t = null;
    return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  }

  global.Beacon = { api, errorText, LiveSocket, ageSeconds, fmtAge, fmtTime, ageClass, el, debounce, cookie };
})(window);
