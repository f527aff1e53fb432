// "Notify me in this browser" on the portal's preferences page: registers the service
// worker, subscribes this browser with the instance's VAPID key, and saves the
// subscription (a form post with the page's CSRF token). Texts come from the page, in the
// member's language.
(function () {
  "use strict";
  var box = document.getElementById("push");
  if (!box) return;
  var button = box.querySelector("button[data-subscribe]");
  var status = box.querySelector("[data-status]");
  function say(key) { status.textContent = box.getAttribute("data-" + key) || ""; }
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    button.hidden = true;
    say("unsupported");
    return;
  }
  function bytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { say("denied"); return null; }
      return navigator.serviceWorker.register("/portal/sw.js", { scope: "/portal/" })
        .then(function () { return navigator.serviceWorker.ready; })
        .then(function (registration) {
          return registration.pushManager.getSubscription().then(function (existing) {
            return existing || registration.pushManager.subscribe({
              userVisibleOnly: true, applicationServerKey: bytes(box.getAttribute("data-key"))
            });
          });
        })
        .then(function (subscription) {
          var json = subscription.toJSON();
          var form = new URLSearchParams();
          form.set("csrf", box.getAttribute("data-csrf"));
          form.set("endpoint", json.endpoint);
          form.set("p256dh", json.keys.p256dh);
          form.set("auth", json.keys.auth);
          return fetch("/portal/push/subscriptions", { method: "POST", body: form, credentials: "same-origin" });
        })
        .then(function (response) { say(response.ok ? "done" : "failed"); });
    }).catch(function () { say("failed"); }).then(function () { button.disabled = false; });
  });
})();
