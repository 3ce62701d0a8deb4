// Connect WhatsApp: Meta's Embedded Signup, then our onboarding.
//
// FB.login opens Meta's signup window with our configuration; it answers a code (exchanged
// by the server: it expires within minutes), and the window posts a WA_EMBEDDED_SIGNUP
// message from https://www.facebook.com naming the business account and number chosen.
// With both, the page posts them to /console/settings/whatsapp and shows each step.
(function () {
  "use strict";
  var box = document.getElementById("embedded-signup");
  if (!box) return;
  var button = document.getElementById("signup-start");
  var status = document.getElementById("signup-status");
  var stepList = document.getElementById("signup-steps");
  var chosen = null;  // {waba_id, phone_number_id} from Meta's message
  var code = null;

  function say(text) { status.textContent = text; }

  function init() {
    FB.init({
      appId: box.dataset.appId, autoLogAppEvents: true, xfbml: false,
      version: box.dataset.graphVersion
    });
    button.disabled = false;
    say("Ready.");
  }
  if (window.FB) { init(); } else { window.fbAsyncInit = init; }

  window.addEventListener("message", function (event) {
    if (event.origin !== "https://www.facebook.com" && event.origin !== "https://web.facebook.com") return;
    var data;
    try { data = JSON.parse(event.data); } catch (e) { return; }
    if (!data || data.type !== "WA_EMBEDDED_SIGNUP") return;
    if (data.event === "FINISH" || data.event === "FINISH_ONLY_WABA") {
      chosen = { waba_id: data.data.waba_id, phone_number_id: data.data.phone_number_id };
      finish();
    } else if (data.event === "CANCEL") {
      say("Signup cancelled" + (data.data && data.data.current_step ? " at " + data.data.current_step : "") + ".");
    } else if (data.event === "ERROR") {
      say("Meta reported an error: " + ((data.data && data.data.error_message) || "unknown"));
    }
  });

  button.addEventListener("click", function () {
    chosen = null; code = null;
    say("Follow Meta's window…");
    FB.login(function (response) {
      if (response.authResponse && response.authResponse.code) {
        code = response.authResponse.code;
        finish();
      } else {
        say("Meta's sign-in was closed before the end.");
      }
    }, {
      config_id: box.dataset.configId,
      response_type: "code",
      override_default_response_type: true,
      extras: { setup: {}, featureType: "", sessionInfoVersion: "3" }
    });
  });

  function finish() {
    if (!code || !chosen) return;  // both arrive, in either order
    if (!chosen.phone_number_id) { say("Pick a phone number in Meta's window: it is needed here."); return; }
    var form = new URLSearchParams({
      csrf_token: box.dataset.csrf, code: code, waba_id: chosen.waba_id,
      phone_number_id: chosen.phone_number_id,
      merchant_id: document.getElementById("signup-merchant").value,
      pin: document.getElementById("signup-pin").value
    });
    code = null;
    say("Connecting the number…");
    fetch("/console/settings/whatsapp", {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRF-Token": box.dataset.csrf }
    }).then(function (r) { return r.json(); }).then(show, function () { say("The server did not answer."); });
  }

  function show(result) {
    stepList.textContent = "";
    (result.steps || []).forEach(function (step) {
      var item = document.createElement("li");
      item.textContent = step.name + ": " + step.status;
      stepList.appendChild(item);
    });
    if (result.status === "done") {
      say("Connected " + (result.display_phone_number || result.phone_number_id) + " (" + (result.verified_name || "") + ").");
    } else {
      say(result.detail || "The number could not be connected.");
    }
  }
})();
