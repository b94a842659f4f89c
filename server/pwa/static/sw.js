// Keeps the shell of both apps (the person's check-in, the field worker's visits) so they open on a bad
// network. API calls are never touched: they go to the server as they are (a check-in must never be
// answered from a cache).
const CACHE = "fieldcheck-shell-v2";
const SHELL = [
  "/m/", "/m/style.css", "/m/app.js", "/m/api.js", "/m/camera.js", "/m/checkin.js", "/m/i18n.js",
  "/m/icons.js", "/m/speech.js", "/m/dom.js", "/m/messages.json", "/m/manifest.webmanifest", "/m/icon.svg",
  // The field worker's app: the same shell, its own page and modules.
  "/m/field.html", "/m/field.js", "/m/field-messages.json", "/m/store.js", "/m/sync.js", "/m/assist.js",
  "/m/vendor/idb/index.js", "/m/field.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith("/m/")) {
    return;
  }
  // Network first, so a new version reaches the phone at once; the cached shell when offline.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname === "/m/index.html" ? "/m/" : event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || caches.match("/m/"))),
  );
});
