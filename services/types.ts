import type { H3Event } from "h3";
import type { Config } from "../runtime/config.ts";
import type { Logger } from "../runtime/logger.ts";
import type { Metrics } from "../runtime/metrics.ts";
import type { Db } from "../storage/db.ts";
import type { Writer } from "../storage/writer.ts";
import type { Kv } from "../storage/kv/index.ts";
import type { Bus } from "../storage/bus/index.ts";
import type { Commands } from "./commands.ts";

/**
 * The stateful modules of the service. Each module adds its own field by declaration merging in
 * its folder (`declare module "../types.ts" { interface Services { price: PriceService } }`), so
 * modules do not edit one shared file.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Services {}

export interface ModuleLifecycle {
  /** Called once every module is installed, before the HTTP server listens. */
  start?(): void | Promise<void>;
  /** Called on shutdown in reverse install order, after HTTP stopped accepting, before the queue flushes. */
  stop?(): void | Promise<void>;
  /**
   * Called when shutdown begins, right after HTTP stopped accepting and before in-flight requests
   * are awaited: close long-lived connections (WebSockets) here, or that wait never ends.
   */
  drain?(): void | Promise<void>;
}

/** A module installs its services on `ctx.services` and returns its lifecycle. */
export type InstallModule = (ctx: AppContext) => ModuleLifecycle | void;

/*
 * The application context the modules are installed on. It lives here, with the module contract,
 * so that services depend on this file and on small leaf modules (config, logger, metrics, storage)
 * only; runtime/context.ts composes them and is imported by no service (tests/architecture.test.ts).
 */

/** A readiness check answers "ok", "not_configured", or a short reason it is not ready. */
export type ReadyCheck = () => string | Promise<string>;

export interface AppContext {
  config: Config;
  log: Logger;
  metrics: Metrics;
  /**
   * The current-week database for reads. All writes go through `queue`; with the writer in its own
   * thread (the default) this connection is query-only.
   */
  db: Db;
  /** The historical database, read-only (`PRAGMA query_only=ON`). */
  history: Db;
  /** The write path (ADR-005): named commands (services/commands.ts) committed in batches. */
  queue: Writer<Commands>;
  /** Sessions and counters: Redis, or the embedded store (storage/kv/embedded.ts). */
  kv: Kv;
  /** Nonces: with Redis the same store as `kv`; embedded, a bounded store of their own. */
  nonceKv: Kv;
  bus: Bus;
  now: () => number;
  services: Services;
  readyChecks: Map<string, ReadyCheck>;
}

declare module "h3" {
  interface H3EventContext {
    app: AppContext;
    requestId: string;
    bodyLimitBytes: number;
  }
}

/** The app context of a request (set by the runtime for every event). */
export function useApp(event: H3Event): AppContext {
  return event.context.app;
}
