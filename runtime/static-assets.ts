import { readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { serveStatic, type H3Event } from "h3";
import { apiError } from "./errors.ts";

/**
 * The demo page's static files (web/): a fixed table of what may be served, so no request path
 * ever reaches the file system. The bundle comes from `npm run build:web` (scripts/build-web.ts).
 * Compiled (dist/runtime/static-assets.js) this module still serves the source tree's web/ folder,
 * where that bundle is written.
 */
const WEB_DIR = fileURLToPath(new URL(import.meta.url.endsWith(".js") ? "../../web/" : "../web/", import.meta.url));

interface Asset {
  file: string;
  type: string;
  /** Extra response headers. */
  headers?: Record<string, string>;
}

/** The page may talk to its own origin only (HTTP and the WebSocket); nothing from elsewhere. */
const PAGE_CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const ASSETS: Record<string, Asset> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8", headers: { "content-security-policy": PAGE_CSP } },
  "/assets/app.js": { file: "dist/app.js", type: "text/javascript; charset=utf-8" },
  "/assets/app.js.map": { file: "dist/app.js.map", type: "application/json; charset=utf-8" },
  "/assets/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

/** Serves `id` (a path from the table) with ETag / Last-Modified revalidation; 404 for anything else. */
export async function serveWebAsset(event: H3Event, id: string): Promise<unknown> {
  const asset = ASSETS[id];
  if (asset === undefined) throw apiError(404, "not_found", "no such file");
  const path = WEB_DIR + asset.file;
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    // The bundle is built by `npm run build:web` (prestart does it); say so rather than a bare 404.
    throw apiError(503, "unavailable", "the demo page is not built: run npm run build:web", undefined, { "retry-after": "5" });
  }
  event.res.headers.set("cache-control", "no-cache");
  event.res.headers.set("x-content-type-options", "nosniff");
  for (const [name, value] of Object.entries(asset.headers ?? {})) event.res.headers.set(name, value);
  return serveStatic(event, {
    getMeta: () => ({ type: asset.type, size: info.size, mtime: info.mtime, etag: `W/"${info.size.toString(16)}-${info.mtimeMs.toString(16)}"` }),
    getContents: () => readFile(path),
    indexNames: [],
  });
}
