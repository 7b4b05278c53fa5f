import type { Logger } from "../../runtime/logger.ts";
import type { StreamListener, StreamState } from "./types.ts";

const LISTENERS_MAX = 100;

/** The stream's listeners (bounded); one listener's failure never stops the others. */
export class StreamListeners {
  readonly #set = new Set<StreamListener>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  add(listener: StreamListener): () => void {
    if (this.#set.size >= LISTENERS_MAX) throw new Error("too many stream listeners");
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  frame(frame: Buffer): void {
    for (const listener of this.#set) this.#call(() => listener.frame?.(frame));
  }

  terms(): void {
    for (const listener of this.#set) this.#call(() => listener.terms?.());
  }

  state(state: StreamState, at: number): void {
    for (const listener of this.#set) this.#call(() => listener.state?.(state, at));
  }

  #call(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#log.error({ err: error }, "stream listener failed");
    }
  }
}

/** Logs a repeated failure at most every `everyMs` instead of once per tick. */
export function throttledWarn(log: Logger, now: () => number, everyMs = 10_000): (key: string, message: string, error: unknown) => void {
  const lastAt = new Map<string, number>();
  return (key, message, error) => {
    const at = now();
    if (at - (lastAt.get(key) ?? Number.NEGATIVE_INFINITY) < everyMs) return;
    lastAt.set(key, at);
    log.warn({ err: error instanceof Error ? error.message : String(error) }, message);
  };
}
