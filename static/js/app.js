// Queqiao's own script (the Content-Security-Policy allows no inline script, no eval, no inline style).
// htmx leaves the page as it was when a request fails (403, 404, expired session or form, server down):
// this says so in the flash area, and keeps the page's CSRF token current, so that what the user typed
// is never lost and sending again works. Messages come translated from #flashes' data-* attributes.
(function () {
  "use strict";

  function flashes() { return document.getElementById("flashes"); }

  function show(text, signIn) {
    var area = flashes();
    if (!area) { return; }
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    if (signIn && area.dataset.loginUrl) {
      // A new tab: this page, with what was typed, stays as it is.
      var a = document.createElement("a");
      a.href = area.dataset.loginUrl;
      a.target = "_blank";
      a.rel = "noopener";
      a.className = "flash-action";
      a.textContent = area.dataset.msgSignIn || "Sign in";
      p.appendChild(document.createTextNode(" "));
      p.appendChild(a);
    }
    area.replaceChildren(p);
  }

  // Every form's hidden csrf_token and the X-CSRFToken header htmx sends (hx-headers on <body>).
  function useToken(token) {
    if (!token) { return; }
    document.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = token; });
    var headers = {};
    try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { headers = {}; }
    headers["X-CSRFToken"] = token;
    document.body.setAttribute("hx-headers", JSON.stringify(headers));
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (xhr) { useToken(xhr.getResponseHeader("X-CSRF-Token")); }
  });

  // A boosted page swaps <body>'s content but keeps its attributes: take the new page's token.
  document.addEventListener("htmx:afterSettle", function (event) {
    var input = event.detail.elt && event.detail.elt.querySelector &&
      event.detail.elt.querySelector("input[name=csrf_token]");
    if (input && input.value) { useToken(input.value); }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = (xhr.responseText || "").trim();
    var area = flashes();
    var fallback = area ? area.dataset.msgError : "";
    show(text && text.charAt(0) !== "<" && text.length < 300 ? text : fallback, xhr.status === 401);
  });

  document.addEventListener("htmx:sendError", function () {
    var area = flashes();
    show(area ? area.dataset.msgOffline : "");
  });
})();

// ux-interaction: focus after an in-place change. A swapped-in element marked data-focus-me (the Undo button
// of a "Note deleted." flash, a restored note) takes the keyboard focus, so keyboard and screen-reader users
// continue from what changed instead of from the top of the page.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function () {
    var el = document.querySelector("[data-focus-me]");
    if (!el) { return; }
    el.removeAttribute("data-focus-me");
    el.focus();
  });
})();
