import { pino, type Logger } from "pino";

export type { Logger };

/** Structured JSON logs on stdout (one object per line), as journald and log shippers expect. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: "btc-tap", ...bindings }, timestamp: pino.stdTimeFunctions.isoTime });
}
