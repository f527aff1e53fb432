// The portal's service worker: shows each notification Tidings pushes (RFC 8030, the
// payload decrypted by the browser) and opens its message in the portal on a click.
self.addEventListener("push", function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  event.waitUntil(self.registration.showNotification(data.title || "Tidings", {
    body: data.body || "",
    tag: data.tag,
    requireInteraction: !!data.requireInteraction,
    data: { url: data.url }
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = event.notification.data && event.notification.data.url;
  if (url) event.waitUntil(self.clients.openWindow(url));
});
