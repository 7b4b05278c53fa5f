import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { H3, HTTPError, type EventHandler, type H3Event } from "h3";
import type { AppContext } from "./context.ts";
import { toErrorBody } from "./errors.ts";
import { readRateLimit } from "./rate-limit.ts";
import { methodsForPath, scanHandlers, type RouteFile } from "./routes.ts";
import { refuseAliasPaths } from "./strict-path.ts";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface LoadedRoutes {
  routes: RouteFile[];
  handlers: Map<RouteFile, EventHandler>;
}

/** Imports every handler file under `dir` that `mounts` admits (all by default); each must default-export an h3 handler. */
export async function loadHandlers(dir: string, mounts: (route: RouteFile) => boolean = () => true): Promise<LoadedRoutes> {
  const routes = scanHandlers(dir).filter(mounts);
  const handlers = new Map<RouteFile, EventHandler>();
  for (const route of routes) {
    const mod = (await import(pathToFileURL(route.file).href)) as { default?: unknown };
    if (typeof mod.default !== "function") throw new Error(`${route.file} must default-export a handler`);
    handlers.set(route, mod.default as EventHandler);
  }
  return { routes, handlers };
}

/**
 * The h3 app: request ids, the error shape of API.md, 404/405, body limit, JSON logs and latency
 * metrics around the file-routed handlers. Knows nothing about the domain.
 */
export function createApp(ctx: AppContext, loaded: LoadedRoutes): H3 {
  const { log, metrics, config } = ctx;
  const app = new H3({
    // Errors are logged once, by onError below (a bug in full; a dependency fault as a warning).
    silent: true,
    onRequest(event) {
      const incoming = event.req.headers.get("x-request-id");
      const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      event.context.requestId = requestId;
      event.context.app = ctx;
      event.context.bodyLimitBytes = config.BODY_LIMIT_BYTES;
      (event.context as { startedAt?: number }).startedAt = performance.now();
      // On Node the header goes on the response itself: touching event.res.headers would build a
      // Headers object per request, and h3 then merges it into a second one (~5 µs per request).
      // Node keeps it under the headers of whatever response is sent (the handler's or an error's).
      const nodeRes = event.runtime?.node?.res;
      if (nodeRes && !nodeRes.headersSent) nodeRes.setHeader("x-request-id", requestId);
      else event.res.headers.set("x-request-id", requestId);
    },
    onResponse(response, event) {
      const startedAt = (event.context as { startedAt?: number }).startedAt ?? performance.now();
      const seconds = (performance.now() - startedAt) / 1000;
      const route = (event.context.matchedRoute?.route as string | undefined) ?? "unmatched";
      metrics.requestSeconds.observe({ method: event.req.method, route, status: String(response.status) }, seconds);
      if (log.isLevelEnabled("debug") || response.status >= 500) {
        const line = {
          requestId: event.context.requestId,
          method: event.req.method,
          path: event.url.pathname,
          route,
          status: response.status,
          ms: Math.round(seconds * 10_000) / 10,
        };
        if (response.status >= 500) log.error(line, "request failed");
        else log.debug(line, "request");
      }
    },
    onError(error, event) {
      return errorResponse(error, event, ctx, loaded.routes);
    },
  });
  app.use(refuseAliasPaths);
  app.use(readRateLimit(config, metrics));
  for (const route of loaded.routes) {
    app.on(route.method as "GET", route.route, loaded.handlers.get(route)!);
  }
  return app;
}

function errorResponse(error: HTTPError, event: H3Event, ctx: AppContext, routes: RouteFile[]): Response {
  let status = error.status;
  let headers: Record<string, string> = {};
  let rendered = toErrorBody(error);
  if (status === 404 && !event.context.matchedRoute) {
    const allowed = methodsForPath(routes, event.url.pathname);
    if (allowed.length > 0 && !allowed.includes("*")) {
      status = 405;
      headers = { allow: allowed.join(", ") };
      rendered = {
        status,
        body: { error: { code: "method_not_allowed", message: `${event.req.method} is not allowed here`, details: { allow: allowed } } },
      };
    } else {
      rendered = { status: 404, body: { error: { code: "not_found", message: "no such route" } } };
    }
  }
  if (rendered.body.error.code === "internal_error") {
    // A bug: log it in full, tell the client nothing about it.
    ctx.log.error({ err: error.cause ?? error, requestId: event.context.requestId, path: event.url.pathname }, "unhandled error");
  } else if (rendered.body.error.code === "unavailable" && !(error.data as { code?: string } | undefined)?.code) {
    ctx.log.warn({ err: error.cause ?? error, requestId: event.context.requestId, path: event.url.pathname }, "dependency unavailable");
  }
  const h = new Headers(error.headers);
  for (const [k, v] of Object.entries({ ...rendered.headers, ...headers })) h.set(k, v);
  h.set("content-type", "application/json; charset=utf-8");
  if (event.context.requestId) h.set("x-request-id", event.context.requestId);
  return new Response(JSON.stringify(rendered.body), { status: rendered.status, headers: h });
}
