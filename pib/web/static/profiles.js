// The profile form as the member types (EUPL-1.2, like the code): the preview and the CPV picker are asked of
// the server (/profiles/preview, /profiles/cpv), which renders the same fragments as the page without script.
"use strict";
(function () {
  const form = document.getElementById("profile-form");
  if (!form) return;
  const preview = document.getElementById("preview");
  const results = document.getElementById("cpv-results");
  const query = document.getElementById("cpv_query");
  const codes = document.getElementById("cpv");
  let previewTimer = null;
  let pickerTimer = null;
  let asked = 0;

  function formQuery() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (name !== "csrf_token" && name !== "action") params.append(name, value);
    }
    params.set("profile_id", form.dataset.profileId || "");
    return params.toString();
  }

  async function fetchInto(url, target, ticket) {
    const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!answer.ok || ticket !== asked) return;
    target.innerHTML = await answer.text();
  }

  function updatePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () {
      asked += 1;
      preview.setAttribute("aria-busy", "true");
      fetchInto("/profiles/preview?" + formQuery(), preview, asked)
        .catch(function () {})
        .finally(function () { preview.removeAttribute("aria-busy"); });
    }, 400);
  }

  function searchCodes() {
    clearTimeout(pickerTimer);
    pickerTimer = setTimeout(function () {
      const text = query.value.trim();
      if (text.length < 2) { results.textContent = ""; return; }
      fetch("/profiles/cpv?q=" + encodeURIComponent(text), { credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.text() : ""; })
        .then(function (html) { results.innerHTML = html; })
        .catch(function () {});
    }, 300);
  }

  form.addEventListener("input", function (event) {
    if (event.target === query) searchCodes();
    else updatePreview();
  });
  form.addEventListener("change", function (event) {
    if (event.target.type === "checkbox") updatePreview();
  });
  results.addEventListener("click", function (event) {
    const button = event.target.closest("button[data-code]");
    if (!button) return;
    event.preventDefault();
    const present = codes.value.split(/[\s,;]+/).filter(Boolean);
    if (!present.includes(button.dataset.code)) present.push(button.dataset.code);
    codes.value = present.join(" ");
    button.disabled = true;
    updatePreview();
  });
})();
