/* Observation card: fill the point from the phone's GPS. */
(function () {
  "use strict";
  const btn = document.getElementById("use-gps");
  const state = document.getElementById("gps-state");
  if (!btn) return;
  btn.addEventListener("click", () => {
    if (!navigator.geolocation) { state.textContent = "This browser has no GPS access."; return; }
    state.textContent = "Finding your position…";
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        document.getElementById("o-lat").value = pos.coords.latitude.toFixed(6);
        document.getElementById("o-lon").value = pos.coords.longitude.toFixed(6);
        state.textContent = `Position: ${pos.coords.latitude.toFixed(5)}, ${pos.coords.longitude.toFixed(5)} (±${Math.round(pos.coords.accuracy)} m)`;
      },
      (err) => { state.textContent = "No position: " + err.message; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
    );
  });
})();
