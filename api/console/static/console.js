// Switchboard console: live regions, small conveniences. No framework, no build step.
//
// <div data-poll="/url" data-interval="2000"> re-fetches its content while the page is
// visible and swaps it in when it changed. A fetched region carrying data-state-key that
// differs from the page's means the controls are stale (someone took over, the window
// closed): the page reloads, keeping any draft.
(function () {
  "use strict";

  function nearBottom(el) {
    return el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  }

  function pageStateKey() {
    var page = document.querySelector(".conversation[data-state-key]");
    return page ? page.getAttribute("data-state-key") : null;
  }

  // what a reload must not lose: the message being written, the note for the AI
  var DRAFTS = ["text", "note"];

  function saveDraft() {
    DRAFTS.forEach(function (id) {
      var area = document.getElementById(id);
      if (area && area.value) sessionStorage.setItem("draft:" + id + ":" + location.pathname, area.value);
    });
  }

  function restoreDraft() {
    DRAFTS.forEach(function (id) {
      var area = document.getElementById(id);
      var key = "draft:" + id + ":" + location.pathname;
      var saved = sessionStorage.getItem(key);
      if (area && saved) { area.value = saved; }
      sessionStorage.removeItem(key);
    });
  }

  // A thread (data-stick-bottom) follows its newest message while the reader is at the
  // bottom; once they scroll up it stays where they are. Whether they are is taken from
  // their scrolling, not measured at a swap: content that grew meanwhile (an image that
  // loaded) must not unstick it.
  function stickToBottom(el) {
    var stuck = true;
    function follow() { if (stuck) el.scrollTop = el.scrollHeight; }
    el.addEventListener("scroll", function () { stuck = nearBottom(el); }, { passive: true });
    el.addEventListener("load", follow, true);  // images and media below, as they load
    el.addEventListener("loadedmetadata", follow, true);
    if (window.ResizeObserver) new ResizeObserver(follow).observe(el);
    el.followBottom = function () { return stuck; };
    follow();
  }

  function swap(el, html) {
    var stick = el.followBottom ? el.followBottom() : false;
    el.innerHTML = html;
    if (stick) el.scrollTop = el.scrollHeight;
    var fresh = el.querySelector("[data-state-key]");
    var current = pageStateKey();
    if (fresh && current !== null && fresh.getAttribute("data-state-key") !== current) {
      saveDraft();
      location.reload();
    }
  }

  function poll(el) {
    var url = el.getAttribute("data-poll");
    var every = parseInt(el.getAttribute("data-interval"), 10) || 3000;
    var last = el.innerHTML;
    function schedule() { setTimeout(tick, every); }
    function tick() {
      if (document.hidden) return schedule();
      fetch(url, { headers: { "X-Console-Poll": "1" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) {
            location.href = "/console/login?next=" + encodeURIComponent(location.pathname + location.search);
            return null;
          }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== last) { last = html; swap(el, html); }
        })
        .catch(function () { /* offline for a moment: try again */ })
        .then(schedule);
    }
    schedule();
  }

  // The template form shows the chosen template's body filled with the parameters typed
  // so far, one per line, as the customer will read it.
  function templatePreview(form) {
    var select = form.querySelector("select[name=template]");
    var area = form.querySelector("textarea[name=parameters]");
    var preview = form.querySelector("[data-template-preview]");
    function render() {
      var option = select.options[select.selectedIndex];
      var values = area.value.split("\n");
      // a text header's {{1}} takes the first line; the body's placeholders the next ones
      var header = option ? option.getAttribute("data-header") || "" : "";
      var shift = /\{\{1\}\}/.test(header) ? 1 : 0;
      function fill(text, offset) {
        return text.replace(/\{\{(\d+)\}\}/g, function (match, n) {
          var v = (values[n - 1 + offset] || "").trim(); return v || match;
        });
      }
      var body = fill(option ? option.getAttribute("data-body") : "", shift);
      preview.textContent = header ? fill(header, 0) + "\n" + body : body;
    }
    select.addEventListener("change", render);
    area.addEventListener("input", render);
    render();
  }

  // Back from a send (…#composer): the composer at the bottom of the window with the latest
  // messages above it, rather than the composer alone at the top (after the browser's own jump).
  window.addEventListener("load", function () {
    var composer = location.hash === "#composer" && document.getElementById("composer");
    if (composer) composer.scrollIntoView({ block: "end" });
  });
  // Canned responses: typing /shortcut in the composer lists the merchant's saved replies,
  // already filled for this conversation by the server; Enter or a click inserts the first
  // or chosen one. Variables the server could not fill stay visible and are pointed out.
  function cannedComposer(area) {
    var list = area.form.querySelector("[data-canned-list]");
    var warning = area.form.querySelector("[data-canned-unknown]");
    var found = [];
    function hide() { list.hidden = true; list.innerHTML = ""; found = []; }
    function insert(item) {
      area.value = item.text;
      hide();
      warning.hidden = !item.unknown.length;
      warning.textContent = item.unknown.length
        ? "Fill in before sending: " + item.unknown.map(function (u) { return "{{" + u + "}}"; }).join(", ")
        : "";
      area.focus();
    }
    function show(items) {
      found = items;
      list.innerHTML = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "canned-option";
        button.setAttribute("data-shortcut", item.shortcut);
        button.textContent = "/" + item.shortcut + " — " + item.text;
        button.addEventListener("click", function () { insert(item); });
        li.appendChild(button);
        list.appendChild(li);
      });
      list.hidden = !items.length;
    }
    area.addEventListener("input", function () {
      var typed = /^\/([A-Za-z0-9_-]*)$/.exec(area.value.trim());
      if (!typed) return hide();
      var url = area.getAttribute("data-canned") + "?prefix=" + encodeURIComponent(typed[1].toLowerCase());
      fetch(url, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(show)
        .catch(hide);
    });
    area.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && found.length && !list.hidden) {
        event.preventDefault();
        event.stopImmediatePropagation();  // insert, do not send
        insert(found[0]);
      } else if (event.key === "Escape") {
        hide();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    restoreDraft();
    document.querySelectorAll("textarea[data-canned]").forEach(cannedComposer);
    document.querySelectorAll("form[data-template-form]").forEach(templatePreview);
    document.querySelectorAll("[data-stick-bottom]").forEach(stickToBottom);
    // focus without scrolling the page (a phone would hide the banner under the header),
    // and only where a keyboard is at hand
    if (window.matchMedia("(min-width: 801px)").matches) {
      document.querySelectorAll("[data-autofocus]").forEach(function (el) { el.focus({ preventScroll: true }); });
    }
    document.querySelectorAll("[data-poll]").forEach(poll);
    document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
    document.querySelectorAll("textarea[data-submit-on-enter]").forEach(function (area) {
      area.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          if (area.value.trim()) area.form.requestSubmit();
        }
      });
    });
    document.querySelectorAll("form").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (event.defaultPrevented) return;
        // after the form data is taken: one click, one request
        setTimeout(function () {
          form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        }, 0);
      });
    });
  });
})();
