// The periodic-task admin form: shows the chosen crontab in words under its field.
// django-celery-beat does this in an inline script; this file replaces it under the CSP.
"use strict";
(function () {
  const data = document.getElementById("readable-crontabs");
  const select = document.getElementById("id_crontab");
  const help = document.querySelector(".field-crontab .help");
  if (!data || !select || !help) return;
  const readable = JSON.parse(data.textContent);
  const original = help.textContent;
  const translation = document.querySelector(".field-crontab_translation");
  if (translation) translation.hidden = true;
  select.addEventListener("change", () => {
    const words = readable[select.value];
    help.textContent = words ? `${original} Translation: ${words}` : original;
  });
})();
