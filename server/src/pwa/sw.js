// Lixiao's service worker. The server fills in the build version, so every deploy
// serves different bytes and the browser installs a new worker.
//
// - The app's own static files are cached at install, per build version, and served
//   cache-first (network-first while a page of a newer build is open).
// - Pages are network-first. The clearance page, 已完成事项 and the slip are kept in a
//   per-student cache so that, offline, the student sees the status last seen, marked
//   offline and with every action disabled. Other pages offline get the offline page.
// - /api/, /sync/, sign-in and every non-GET request are never cached.
// - A sign-in or a logout (by script or by a plain form), a page served to nobody
//   (signed out) and a page served to another student delete the saved pages: phones and
//   lab PCs are shared.
"use strict";

const VERSION = "__LIXIAO_VERSION__";
const STATIC_CACHE = `lixiao-static-${VERSION}`;
const PAGE_CACHE_PREFIX = "lixiao-pages-";
const STATIC_FILES = [
  // This build's bundle, by the names the server serves it under (content-hashed in
  // a release build).
  "__LIXIAO_JS__",
  "__LIXIAO_WASM__",
  "__LIXIAO_CSS__",
  "/pwa.js",
  "/offline.html",
  "/manifest.webmanifest",
  "/favicon.svg",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/maskable-512.png",
  "/icons/apple-touch-icon.png",
];
const OFFLINE_PAGES = ["/clearance", "/completed", "/completed/slip"];
const STUDENT_CHANGES = ["/api/cancel_library_card", "/api/submit_departure"];
// Passed straight through. (The sign-in page goes through `page` so that a page served to
// nobody clears saved pages, but like every page outside OFFLINE_PAGES it is never saved.)
const NEVER_CACHED = ["/api/", "/sync/"];

// Set when a page from a newer build than this worker is seen: its static files must then
// come from the network, not from this worker's (older) cache.
let newerBuildSeen = false;

self.addEventListener("install", (event) => {
  // Names without a content hash come from the server, never from the browser's HTTP
  // cache: an older copy there would otherwise be kept as this version's file. A hashed
  // name is its content, so the copy the page just loaded is taken (no second download
  // of the bundle on a phone's first visit).
  // (scripts/site.mjs's hashes: an MD5 in 22 characters of URL-safe base64.)
  const hashed = (path) => /\/pkg\/lixiao\.[A-Za-z0-9_-]{16,}\.(js|wasm|css)$/.test(path);
  const fresh = STATIC_FILES.map(
    (path) => new Request(path, { cache: hashed(path) ? "default" : "reload" }),
  );
  event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.addAll(fresh)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("lixiao-static-") && name !== STATIC_CACHE) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })(),
  );
});

// The page's "有新版本" button asks the waiting worker to take over; the page also says
// which page the student is on after moving inside the app (the router fetches data,
// not pages, so no page request comes through here): "save:/clearance".
self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") {
    self.skipWaiting();
  } else if (typeof event.data === "string" && event.data.startsWith("save:")) {
    const path = event.data.slice("save:".length);
    if (OFFLINE_PAGES.includes(path)) {
      event.waitUntil(savePage(path));
    }
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.method !== "GET") {
    // Signing in or out, by script or by a plain form: forget this device's saved pages.
    if (url.pathname === "/api/login" || url.pathname === "/api/logout") {
      event.waitUntil(deletePageCaches(null));
      return;
    }
    // What the student does (注销, 提交) changes the saved pages: passed through
    // untouched, then the saved pages are fetched again. (Other server functions are
    // reads, POSTed too: they change nothing.)
    if (STUDENT_CHANGES.includes(url.pathname)) {
      event.respondWith(
        fetch(request).then((response) => {
          event.waitUntil(refreshSavedPages());
          return response;
        }),
      );
    }
    return;
  }
  if (NEVER_CACHED.some((prefix) => url.pathname.startsWith(prefix))) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(page(event, request, url));
  } else if (STATIC_FILES.includes(url.pathname)) {
    event.respondWith(staticFile(request));
  }
});

async function staticFile(request) {
  if (!newerBuildSeen) {
    const cached = await caches.match(request, { cacheName: STATIC_CACHE });
    if (cached) {
      return cached;
    }
  }
  return fetch(request.url, { cache: "no-cache" });
}

// Fetches a page as the signed-in student sees it now, and keeps it.
async function savePage(path) {
  let response;
  try {
    response = await fetch(path, { credentials: "same-origin", headers: { accept: "text/html" } });
  } catch (offline) {
    return;
  }
  if (response.ok && !response.redirected) {
    await keepPage(response.headers.get("x-lixiao-cache-key"), new URL(response.url), response);
  }
}

async function refreshSavedPages() {
  const paths = new Set();
  for (const name of await caches.keys()) {
    if (name.startsWith(PAGE_CACHE_PREFIX)) {
      for (const request of await (await caches.open(name)).keys()) {
        paths.add(new URL(request.url).pathname);
      }
    }
  }
  for (const path of paths) {
    await savePage(path);
  }
}

async function page(event, request, url) {
  let response;
  try {
    response = await fetch(request);
  } catch (offline) {
    return offlinePage(url);
  }
  const version = response.headers.get("x-lixiao-version");
  if (version && version !== VERSION) {
    newerBuildSeen = true;
    event.waitUntil(self.registration.update());
  }
  if (response.type === "opaqueredirect" || response.status >= 300) {
    return response;
  }
  const key = response.headers.get("x-lixiao-cache-key");
  event.waitUntil(keepPage(key, url, response.clone()));
  return response;
}

// Keeps a student's page, and drops every other student's.
async function keepPage(key, url, response) {
  await deletePageCaches(key);
  if (!key || !OFFLINE_PAGES.includes(url.pathname)) {
    return;
  }
  const headers = new Headers(response.headers);
  headers.set("x-lixiao-saved-at", new Date().toISOString());
  const body = await response.text();
  const cache = await caches.open(PAGE_CACHE_PREFIX + key);
  await cache.put(url.pathname, new Response(body, { status: 200, headers }));
}

async function deletePageCaches(keep) {
  for (const name of await caches.keys()) {
    if (name.startsWith(PAGE_CACHE_PREFIX) && name !== PAGE_CACHE_PREFIX + keep) {
      await caches.delete(name);
    }
  }
}

async function offlinePage(url) {
  if (OFFLINE_PAGES.includes(url.pathname)) {
    for (const name of await caches.keys()) {
      if (!name.startsWith(PAGE_CACHE_PREFIX)) {
        continue;
      }
      const saved = await (await caches.open(name)).match(url.pathname);
      if (saved) {
        const html = offlineCopy(await saved.text(), saved.headers.get("x-lixiao-saved-at"));
        return new Response(html, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            // The snapshot runs no script at all.
            "content-security-policy":
              "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'",
          },
        });
      }
    }
  }
  const fallback = await caches.match("/offline.html", { cacheName: STATIC_CACHE });
  return fallback || new Response("网络未连接，请检查网络后刷新。", {
    status: 503,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

// The saved page as a static snapshot: no scripts (nothing to hydrate, nothing to send),
// every button disabled, and a banner saying when it was saved.
function offlineCopy(html, savedAt) {
  const banner =
    '<div class="offline-banner" role="status">离线：这是 ' +
    beijingTime(savedAt) +
    " 时的状态，恢复网络后刷新</div>";
  return html
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, "")
    .replace(/<link\b[^>]*rel="(?:modulepreload|preload)"[^>]*>/gi, "")
    .replace(/<button\b/gi, "<button disabled")
    .replace(/<body([^>]*)>/i, `<body$1 data-offline="true">${banner}`);
}

function beijingTime(iso) {
  const moment = new Date(iso || Date.now());
  const beijing = new Date(moment.getTime() + 8 * 3600 * 1000).toISOString();
  return `${beijing.slice(0, 10)} ${beijing.slice(11, 16)}`;
}
