// The briefing's Print button (a script file, not onclick=: the CSP forbids inline handlers).
"use strict";
(function () {
  const button = document.getElementById("print-briefing");
  if (button) button.addEventListener("click", () => window.print());
})();
