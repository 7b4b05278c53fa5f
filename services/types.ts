import type { AppContext } from "../runtime/context.ts";

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
