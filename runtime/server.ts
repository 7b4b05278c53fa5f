import type { Duplex } from "node:stream";
import { renameSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "h3";
import { plugin as websocket } from "crossws/server";
import type { Config } from "./config.ts";
import { createApp, loadHandlers } from "./app.ts";
import { createContext, databasePaths, type AppContext, type ContextOptions } from "./context.ts";
import { createLeaseKeeper } from "./lease-keeper.ts";
import { JobRunner, loadJobs, scheduleJobs } from "./jobs.ts";
import { servesRoute } from "./routes.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export interface StartOptions extends ContextOptions {
  handlersDir?: string;
  jobsDir?: string;
  /** LEASE=on: stops waiting as the standby (SIGTERM before this process ever held the lease). */
  signal?: AbortSignal;
}

export interface RunningServer {
  ctx: AppContext;
  url: string;
  port: number;
  jobs: JobRunner;
  /** Graceful stop: refuse new connections, finish in-flight requests, flush, close storage. */
  close(): Promise<void>;
}

declare module "h3" {
  interface H3EventContext {
    jobs?: JobRunner;
  }
}

/** Boots storage and modules, mounts the file-routed handlers and listens on PORT (or the inherited socket). */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const state = coreState(config.CORE_STATE_FILE);
  state.set("booting");
  const booted = await createContext(config, options);
  const { ctx } = booted;
  const keeper =
    config.LEASE === "on"
      ? createLeaseKeeper({
          path: databasePaths(config).current,
          busyTimeoutMs: config.DB_BUSY_TIMEOUT_MS,
          ttlMs: config.LEASE_TTL_MS,
          renewMs: config.LEASE_RENEW_MS,
          pollMs: config.LEASE_POLL_MS,
          log: ctx.log,
          onLost: (reason) => {
            ctx.log.fatal({ reason }, "lease lost: this process stops serving");
            options.onLeaseLost?.(new Error(reason));
          },
        })
      : undefined;
  try {
    const loaded = await loadHandlers(options.handlersDir ?? join(root, "handlers"), (route) => servesRoute(config.ROLE, route));
    // Jobs (archive, integrity) work on the database: an edge has none and runs none.
    const runner = new JobRunner(ctx, config.ROLE === "edge" ? [] : await loadJobs(options.jobsDir ?? join(root, "jobs")));
    ctx.services.jobs = runner;
    const app = createApp(ctx, loaded);
    // LEASE=on: everything above is ready (migrated, modules installed, handlers loaded, writer
    // thread running but idle): a warm standby. Only the holder starts the feeds, the resolver and
    // the jobs, and only it listens.
    if (keeper) {
      state.set("standby");
      await keeper.acquire(options.signal);
    }
    await booted.start();
    const listenFd = inheritedSocket(config);
    const server = serve(app, {
      port: config.PORT,
      hostname: config.HOST,
      silent: true,
      gracefulShutdown: false,
      node: { ...nodeServerOptions(config), ...(listenFd === undefined ? {} : { fd: listenFd }) },
      plugins: [websocket({ options: { node: { serverOptions: { maxPayload: 4096, perMessageDeflate: false } } } })],
    });
    await server.ready();
    server.node?.server?.on("clientError", answerClientError);
    const stopSchedule = config.JOBS_ENABLED ? scheduleJobs(runner) : () => {};
    const address = server.node?.server?.address();
    const port = typeof address === "object" && address ? address.port : config.PORT;
    const host = listenFd !== undefined && typeof address === "object" && address ? address.address : config.HOST;
    const url = `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host}:${port}`;
    state.set(keeper ? "holder" : "serving");
    ctx.log.info(
      { url, role: config.ROLE, redis: Boolean(config.REDIS_URL), ...(listenFd === undefined ? {} : { fd: listenFd }), ...(config.ROLE === "edge" ? {} : { sources: config.PRICE_SOURCES }) },
      "listening",
    );
    let closing: Promise<void> | undefined;
    return {
      ctx,
      url,
      port,
      jobs: runner,
      close() {
        closing ??= (async () => {
          stopSchedule();
          state.set("draining");
          const nodeServer = server.node?.server as import("node:http").Server | undefined;
          // Keep-alive connections (nginx's pool) end after their next response, so they do not
          // hold the drain open until the forced close, and nginx never reuses them.
          nodeServer?.on("request", (_req: IncomingMessage, res: ServerResponse) => {
            if (!res.headersSent) res.setHeader("connection", "close");
          });
          let serverClosed: Promise<unknown>;
          let forceClose: () => void;
          if (nodeServer && keeper) {
            // A failover pair: first stop accepting only (net.Server's close: http.Server's also
            // closes at once every connection without a request — one just accepted whose request is
            // still arriving too, which nginx then counts as a failed try). For a moment the
            // connections already open go on serving (each once more, then closed), so that nginx's
            // next try of a cut request rarely meets another closing connection; new connections
            // wait in the shared socket's backlog for the standby.
            serverClosed = new Promise((resolve) => nodeServer.once("close", resolve));
            net.Server.prototype.close.call(nodeServer);
            forceClose = () => nodeServer.closeAllConnections();
            await new Promise((resolve) => setTimeout(resolve, DRAIN_GRACE_MS));
            nodeServer.closeIdleConnections();
          } else {
            serverClosed = server.close();
            forceClose = () => void server.close(true);
          }
          // What is idle is closed every 50 ms (a request nginx sends on one just as it closes is
          // retried: proxy_next_upstream ... non_idempotent on the bet route).
          const idleSweep = setInterval(() => nodeServer?.closeIdleConnections(), 50);
          await booted.drain();
          // In-flight requests get a few seconds, then their connections are cut.
          const forced = setTimeout(forceClose, 5000);
          await serverClosed;
          clearTimeout(forced);
          clearInterval(idleSweep);
          await runner.idle();
          await booted.close();
          // Only now, with the writer flushed and the feeds, resolver and jobs stopped, may the standby write.
          keeper?.release();
          state.set("stopped");
        })();
        return closing;
      },
    };
  } catch (error) {
    keeper?.close();
    await booted.close();
    state.set("stopped");
    throw error;
  }
}

/** A failover pair's holder keeps serving its open connections this long after it stopped accepting (see close()). */
const DRAIN_GRACE_MS = 300;

/**
 * Socket activation: LISTEN_FDS=1 (systemd's tap-core.socket, or runtime/supervisor.ts) hands the
 * process a listening socket as fd 3, shared by both cores of a failover pair; the holder accepts
 * on it, and while neither does (a handover) connections wait in its kernel backlog, never refused.
 */
export function inheritedSocket(config: Config): number | undefined {
  if (config.LISTEN_FDS !== 1) return undefined;
  if (config.LISTEN_PID !== undefined && config.LISTEN_PID !== process.pid) return undefined;
  return 3;
}

/** Writes this process's state to CORE_STATE_FILE (when set) for scripts/deploy.sh: a write-then-rename, never half a word. */
function coreState(file: string | undefined): { set(state: "booting" | "standby" | "holder" | "serving" | "draining" | "stopped"): void } {
  return {
    set(value) {
      if (!file) return;
      try {
        writeFileSync(`${file}.tmp`, `${value} ${process.pid}\n`);
        renameSync(`${file}.tmp`, file);
      } catch {
        // a state file is a convenience for the deploy script; the service runs without it
      }
    },
  };
}

/**
 * Limits of Node's HTTP server on a request (issue 13): the head must arrive within
 * HTTP_HEADERS_TIMEOUT_MS and the whole request within HTTP_REQUEST_TIMEOUT_MS (Node answers 408
 * and closes; its default holds a trickled body for 300 s), and a head larger than
 * HTTP_MAX_HEADER_BYTES is refused with 431. Node looks for overdue requests every
 * `connectionsCheckingInterval` (default 30 s), so that runs at a tenth of the shortest timeout.
 * A WebSocket, once upgraded, is no longer a request and is not cut.
 */
export function nodeServerOptions(config: Config) {
  const shortestMs = Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS);
  return {
    headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    maxHeaderSize: config.HTTP_MAX_HEADER_BYTES,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(shortestMs / 10))),
  };
}

/** What Node's HTTP parser and timers refuse before any handler runs, answered in API.md's error shape. */
const CLIENT_ERRORS: Record<string, [status: number, reason: string, code: string, message: string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "request_timeout", "the request did not arrive in time"],
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large", "headers_too_large", "the request head is too large"],
};

/**
 * Node's `clientError`: a request that timed out (HTTP_*_TIMEOUT_MS), a head over
 * HTTP_MAX_HEADER_BYTES or a malformed request. Without a listener Node writes a bare status line;
 * with this one the client gets the API's JSON error shape, then the connection closes.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A response already under way, or a connection already gone: nothing sensible can be written.
  if (!socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  if (error.code === "ECONNRESET") {
    socket.destroy();
    return;
  }
  const [status, reason, code, message] = CLIENT_ERRORS[error.code ?? ""] ?? [400, "Bad Request", "invalid_request", "malformed HTTP request"];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
