import { retryDelayMs } from "../domain/backoff.ts";

/**
 * A dependency (the disk under the database, Redis) cannot do what was asked right now. Nothing of
 * the request happened; the same request may succeed shortly. runtime/errors.ts answers it with
 * 503 `unavailable` and `Retry-After`.
 */
export class DependencyUnavailableError extends Error {
  readonly code = "unavailable";
  constructor(
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DependencyUnavailableError";
  }
}

/** SQLite result codes that mean the disk or the file, not the statement: disk full, I/O error, read-only or unopenable file, lock held too long. */
const SQLITE_DEPENDENCY_CODE = /^SQLITE_(FULL|IOERR|CANTOPEN|READONLY|BUSY|NOMEM)(_|$)/;

/**
 * Which dependency an error says is unavailable ("database", "redis", …), or undefined when the
 * error is something else (a bug, a refusal). Follows `cause` a few levels: h3 wraps what a handler
 * throws, and the writer thread rebuilds SQLite errors with their `code` (storage/wire-errors.ts).
 */
export function unavailableDependency(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 5 && e && typeof e === "object"; depth++) {
    const code = (e as { code?: unknown }).code;
    if (e instanceof DependencyUnavailableError || (code === "unavailable" && typeof (e as { dependency?: unknown }).dependency === "string")) {
      return (e as { dependency: string }).dependency;
    }
    if (typeof code === "string" && SQLITE_DEPENDENCY_CODE.test(code)) return "database";
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * `promise`, or a rejection with `onTimeout()` once `timeoutMs` passed: a hung dependency never
 * holds a caller longer than its timeout. The timer does not keep the process alive.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface RetryOptions {
  /** First delay; doubles after each failure up to `maxMs`. */
  baseMs: number;
  maxMs: number;
  /** Told about each failure before the wait (log it). */
  onRetry?: (error: unknown, failures: number, delayMs: number) => void;
}

/**
 * Runs `write` until it succeeds, waiting a capped exponential backoff after each failure that is a
 * dependency fault (disk full, I/O error): such a write changed nothing and will succeed once the disk
 * has room, however long that takes. Any other error is thrown at once. For background writes nobody
 * waits on an answer for (settlements, the archiver), never for a request.
 */
export async function retryWhileUnavailable<T>(write: () => T | Promise<T>, options: RetryOptions): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await write();
    } catch (error) {
      if (!unavailableDependency(error)) throw error;
      const delayMs = retryDelayMs(failures, options.baseMs, options.maxMs);
      options.onRetry?.(error, failures, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
