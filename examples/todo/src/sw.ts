// The service worker: it caches the app shell (index.html and the built assets, listed into this
// file by the build) so the page opens while the server is down; the data itself lives in the
// replica and arrives over the WebSocket, which this worker never touches.
const sw = self as unknown as ServiceWorkerGlobalScope;

// Replaced at build time (vite.config.ts) by the JSON list of the build's files.
const MANIFEST = '__SYNCORD_SW_MANIFEST__';
const SHELL: string[] = JSON.parse(MANIFEST) as string[];
// A new build lists new file names, so it gets a new cache and the old one is dropped on activate.
const CACHE = `todo-shell-${hash(SHELL.join('|'))}`;

// The server answers with `Vary: Origin` (CORS), and module scripts are requested with an Origin
// header that install's requests lacked: matching must ignore Vary or nothing would hit.
const MATCH: MultiCacheQueryOptions = { cacheName: CACHE, ignoreVary: true };

function hash(text: string): string {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL);
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== sw.location.origin || url.pathname.startsWith('/sync/')) return;
  if (request.mode === 'navigate') {
    // The network first, so a new build is seen at once; the cached shell when it is unreachable.
    event.respondWith(fetch(request).catch(async () => (await caches.match('/', MATCH)) ?? Response.error()));
    return;
  }
  // Built assets have content-hashed names: a cached one is never stale.
  event.respondWith(caches.match(request, MATCH).then((hit) => hit ?? fetch(request)));
});
