import { join } from "node:path";
import { createDiskKv } from "./disk.ts";
import { createMemoryKv } from "./memory.ts";
import type { Kv } from "./types.ts";

export interface EmbeddedKvOptions {
  dataDir: string;
  mode: "disk" | "memory";
  sessionsMax: number;
  noncesMax: number;
  busyTimeoutMs: number;
}

export interface EmbeddedKv {
  /** Sessions and counters. */
  kv: Kv;
  /** Nonces only: a store of their own, so a flood of nonce requests evicts nonces, never sessions. */
  nonces: Kv;
}

/** The stores of the embedded default (REDIS_URL unset): two tables of `DATA_DIR/sessions.db`, or two maps. */
export function openEmbeddedKv(options: EmbeddedKvOptions): EmbeddedKv {
  if (options.mode === "memory") {
    return { kv: createMemoryKv({ keysMax: options.sessionsMax }), nonces: createMemoryKv({ keysMax: options.noncesMax }) };
  }
  const path = embeddedKvPath(options.dataDir);
  const common = { path, busyTimeoutMs: options.busyTimeoutMs };
  return {
    kv: createDiskKv({ ...common, table: "sessions", keysMax: options.sessionsMax }),
    nonces: createDiskKv({ ...common, table: "nonces", keysMax: options.noncesMax }),
  };
}

export function embeddedKvPath(dataDir: string): string {
  return join(dataDir, "sessions.db");
}
