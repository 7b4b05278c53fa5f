import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Role } from "./config.ts";

export const ROUTE_METHODS = ["get", "post", "put", "patch", "delete", "head", "options"] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

export interface RouteFile {
  /** Upper-case method, or "" for a file without one (all methods; used by ws.ts). */
  method: string;
  /** rou3 pattern: `/api/bets/:id`. */
  route: string;
  file: string;
}

const HANDLER_FILE = /\.(ts|mts|js|mjs)$/;
/** A route with a method may end in a document extension: `openapi.json.get.ts` → GET /openapi.json. */
const ROUTE_EXTENSION = /\.(json|txt|html|js|css|svg|png|ico|webmanifest)$/;

/**
 * Maps a handler path relative to `handlers/` to its route, Nitro style:
 * `api/bets.post.ts` → POST /api/bets, `api/bets/[id].get.ts` → GET /api/bets/:id,
 * `index.get.ts` → GET of its folder, `ws.ts` → every method of /ws.
 * Returns undefined for files that are not routes (`_helpers.ts`, tests, type files).
 */
export function routeFromPath(relPath: string): Omit<RouteFile, "file"> | undefined {
  const parts = relPath.split(/[\\/]/);
  if (parts.some((p) => p.startsWith("_") || p.startsWith("."))) return undefined;
  const fileName = parts.pop()!;
  if (!HANDLER_FILE.test(fileName) || /\.(test|spec|d)\.[mc]?[tj]s$/.test(fileName)) return undefined;
  const stem = fileName.replace(HANDLER_FILE, "");
  const dot = stem.lastIndexOf(".");
  const suffix = dot >= 0 ? stem.slice(dot + 1).toLowerCase() : "";
  const isMethod = (ROUTE_METHODS as readonly string[]).includes(suffix);
  const name = isMethod ? stem.slice(0, dot) : stem;
  const extension = isMethod ? (ROUTE_EXTENSION.exec(name)?.[0] ?? "") : "";
  if (name.slice(0, name.length - extension.length).replace(/\[\.\.\./g, "[").includes(".")) return undefined;
  const segments = [...parts, name].filter((s) => s !== "index");
  const route =
    "/" +
    segments
      .map((s, i, all) => {
        const catchAll = /^\[\.\.\.(\w+)\]$/.exec(s);
        if (catchAll) return `**:${catchAll[1]}`;
        const param = /^\[(\w+)\]$/.exec(s);
        if (param) return `:${param[1]}`;
        if (extension && i === all.length - 1 && /^[\w-]+$/.test(s.slice(0, -extension.length))) return s;
        if (!/^[\w-]+$/.test(s)) throw new Error(`handler path segment "${s}" in ${relPath} is not a valid route segment`);
        return s;
      })
      .join("/");
  return { method: isMethod ? suffix.toUpperCase() : "", route: route === "/" ? "/" : route };
}

/** Lists every route file under `dir`, sorted so static segments win over parameters. */
export function scanHandlers(dir: string): RouteFile[] {
  const found: RouteFile[] = [];
  const walk = (current: string, depth: number) => {
    if (depth > 16) throw new Error(`handlers nested too deep at ${current}`);
    for (const entry of readdirSync(current).sort()) {
      const full = join(current, entry);
      if (statSync(full).isDirectory()) {
        if (!entry.startsWith("_")) walk(full, depth + 1);
        continue;
      }
      const route = routeFromPath(relative(dir, full).split(sep).join("/"));
      if (route) found.push({ ...route, file: full });
    }
  };
  walk(dir, 0);
  const seen = new Set<string>();
  for (const r of found) {
    const key = `${r.method} ${r.route}`;
    if (seen.has(key)) throw new Error(`two handler files claim ${key}`);
    seen.add(key);
  }
  return found;
}

/** A matcher for 405: which methods does some route file offer for this path? */
export function methodsForPath(routes: RouteFile[], path: string): string[] {
  const methods = new Set<string>();
  for (const r of routes) if (routeRegex(r.route).test(path)) methods.add(r.method || "*");
  return [...methods];
}

const regexCache = new Map<string, RegExp>();
function routeRegex(route: string): RegExp {
  let re = regexCache.get(route);
  if (!re) {
    const body = route
      .split("/")
      .map((s) => (s.startsWith("**") ? ".*" : s.startsWith(":") ? "[^/]+" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
      .join("/");
    re = new RegExp(`^${body}/?$`);
    regexCache.set(route, re);
  }
  return re;
}

/** What an edge serves (SPEC §11): the socket, the market reads, the page and its assets, health. */
const EDGE_ROUTES: ReadonlySet<string> = new Set(["/ws", "/api/price", "/api/grid", "/", "/assets/:file", "/healthz", "/readyz", "/metrics"]);
/** The socket is the edges' (and the single process's): the core installs no WebSocket hub. */
const SOCKET_ROUTE = "/ws";

/** Whether a process of `role` mounts `route`; the others answer 404 there (nginx never sends them). */
export function servesRoute(role: Role, route: RouteFile): boolean {
  if (role === "edge") return EDGE_ROUTES.has(route.route);
  if (role === "core") return route.route !== SOCKET_ROUTE;
  return true;
}
