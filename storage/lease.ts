import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CURRENT_MIGRATIONS_DIR, immediateTransaction, type Db } from "./db.ts";
import type { TransactionHooks } from "./batch-queue.ts";

/**
 * The writer's lease (issue 24, part 1; wired in by runtime/lease-keeper.ts when LEASE=on): of several core processes
 * on one data directory, only the holder of the lease writes money, resolves, archives and runs the
 * feeds. The lease is a row of the database it guards, so the database itself is the arbiter:
 *
 * - **acquire**: one `BEGIN IMMEDIATE` transaction takes the row when it is free, expired, released,
 *   or held by a process that no longer exists (same machine: the holder's pid and its start time in
 *   /proc, so a reused pid is not mistaken for it — a `kill -9` is noticed at the next poll, not after
 *   the TTL). Taking it from another holder increments the **epoch**.
 * - **renew**: the holder pushes `expires_at` forward while its (holder, epoch) still matches; a hung
 *   holder (SIGSTOP, a stuck loop) stops renewing and loses the lease after `ttlMs`.
 * - **release** (SIGTERM, after draining): frees it at once for the standby's next poll.
 * - **fencing**: `assertLeaseHeld` runs inside each writing transaction, after `BEGIN IMMEDIATE` took
 *   SQLite's write lock. A takeover is itself a write, so it either committed before (the stale holder
 *   sees another epoch and its transaction aborts with LeaseLostError) or comes after that commit:
 *   no write of an old holder lands after a new holder's first one. Time plays no part in fencing.
 */

export interface LeaseIdentity {
  /** What is leased: "writer". */
  name: string;
  /** Unique per process run, e.g. `${hostname}:${pid}:${startTime}`. */
  holder: string;
  /** The holder's pid on this machine, for the liveness check (undefined: TTL only). */
  pid?: number;
}

export interface HeldLease {
  name: string;
  holder: string;
  epoch: number;
  expiresAt: number;
}

export type AcquireResult = ({ acquired: true } & HeldLease) | { acquired: false; holder: string; epoch: number; expiresAt: number };

/**
 * The lease is someone else's: the transaction was rolled back, nothing of it happened. A request
 * that met it answers 503 `unavailable` (runtime/errors.ts reads `code` and `dependency`) and may be
 * retried; the process stops serving (runtime/lease-keeper.ts) and restarts as the standby.
 */
export class LeaseLostError extends Error {
  readonly code = "unavailable";
  readonly dependency = "writer_lease";
  constructor(
    readonly name_: string,
    readonly epoch: number,
  ) {
    super(`the ${name_} lease${epoch >= 0 ? ` (epoch ${epoch})` : ""} is held by another process now; this process must not write`);
    this.name = "LeaseLostError";
  }
}

/** Creates the lease table when missing (idempotent): migration 110's own text, for a database not migrated (tests, tools). */
export function ensureLeaseTable(db: Db): void {
  db.exec(readFileSync(join(CURRENT_MIGRATIONS_DIR, "110_leases.sql"), "utf8"));
}

/**
 * When a process started (Linux: /proc/<pid>/stat field 22, clock ticks since boot); undefined if it
 * does not exist or is a zombie (killed, not yet reaped by its parent: it will never write again).
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that took the lease is gone (its pid is free or now names another process). Unknown counts as alive. */
function holderGone(pid: number | null, started: string | null): boolean {
  if (pid === null || started === null || !existsProcFs()) return false;
  return processStartTime(pid) !== started;
}

let procFs: boolean | undefined;
function existsProcFs(): boolean {
  procFs ??= processStartTime(process.pid) !== undefined;
  return procFs;
}

interface Row {
  holder: string;
  pid: number | null;
  pid_started: string | null;
  epoch: number;
  expires_at: number;
}

/** Takes the lease if it is free, expired, released, ours already, or its holder's process is gone. */
export function tryAcquire(db: Db, who: LeaseIdentity, ttlMs: number, nowMs: number): AcquireResult {
  return immediateTransaction(db, () => {
    const row = db.prepare("SELECT holder, pid, pid_started, epoch, expires_at FROM leases WHERE name = ?").get(who.name) as Row | undefined;
    const started = who.pid === undefined ? null : (processStartTime(who.pid) ?? null);
    const expiresAt = nowMs + ttlMs;
    if (!row) {
      db.prepare("INSERT INTO leases (name, holder, pid, pid_started, epoch, expires_at) VALUES (?, ?, ?, ?, 1, ?)").run(who.name, who.holder, who.pid ?? null, started, expiresAt);
      return { acquired: true, name: who.name, holder: who.holder, epoch: 1, expiresAt };
    }
    const ours = row.holder === who.holder;
    const free = row.expires_at <= nowMs || holderGone(row.pid, row.pid_started);
    if (!ours && !free) return { acquired: false, holder: row.holder, epoch: row.epoch, expiresAt: row.expires_at };
    // A new holder gets a new epoch; a holder re-taking its own (expired) lease keeps it, as nobody wrote in between.
    const epoch = ours ? row.epoch : row.epoch + 1;
    db.prepare("UPDATE leases SET holder = ?, pid = ?, pid_started = ?, epoch = ?, expires_at = ? WHERE name = ?").run(who.holder, who.pid ?? null, started, epoch, expiresAt, who.name);
    return { acquired: true, name: who.name, holder: who.holder, epoch, expiresAt };
  });
}

/** Extends a held lease; false when it was lost (taken over): the caller must stop writing at once. */
export function renewLease(db: Db, lease: HeldLease, ttlMs: number, nowMs: number): boolean {
  const expiresAt = nowMs + ttlMs;
  const changed = db.prepare("UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND epoch = ?").run(expiresAt, lease.name, lease.holder, lease.epoch).changes;
  if (changed === 1) lease.expiresAt = expiresAt;
  return changed === 1;
}

/** Gives the lease up (after draining): the next poll of a standby takes it. False if it was no longer ours. */
export function releaseLease(db: Db, lease: HeldLease): boolean {
  return db.prepare("UPDATE leases SET expires_at = 0 WHERE name = ? AND holder = ? AND epoch = ?").run(lease.name, lease.holder, lease.epoch).changes === 1;
}

/** Who holds the lease now (for readiness answers and logs). */
export function currentLease(db: Db, name: string): HeldLease | undefined {
  const row = db.prepare("SELECT holder, epoch, expires_at FROM leases WHERE name = ?").get(name) as Row | undefined;
  return row && { name, holder: row.holder, epoch: row.epoch, expiresAt: row.expires_at };
}

/**
 * Fencing: call inside every writing transaction (after `BEGIN IMMEDIATE`); throws LeaseLostError
 * when another process has taken the lease since, so the transaction rolls back.
 */
export function assertLeaseHeld(db: Db, lease: Pick<HeldLease, "name" | "holder" | "epoch">): void {
  const row = db.prepare("SELECT 1 AS held FROM leases WHERE name = ? AND holder = ? AND epoch = ?").get(lease.name, lease.holder, lease.epoch);
  if (!row) throw new LeaseLostError(lease.name, lease.epoch);
}

/** Whether the lease row names `holder` now (a read: it takes no lock). */
export function leaseHolderIs(db: Db, name: string, holder: string): boolean {
  return db.prepare("SELECT 1 AS held FROM leases WHERE name = ? AND holder = ?").get(name, holder) !== undefined;
}

/**
 * The fence as a batch-queue hook (LEASE=on): right after BEGIN IMMEDIATE, before any command of the
 * transaction runs, the lease must still name this process; otherwise the whole transaction fails
 * with LeaseLostError and rolls back. It checks the holder rather than the epoch, because the writer
 * thread starts before the lease is taken and its epoch is known: a holder name is unique per
 * process run (hostname, pid, start time) and a process that lost the lease exits and never takes it
 * again, so "the row still names me" is the same test as "nobody took it since I did".
 */
export function leaseFence(lease: { name: string; holder: string }): TransactionHooks {
  return {
    afterBegin(db) {
      if (!leaseHolderIs(db, lease.name, lease.holder)) throw new LeaseLostError(lease.name, -1);
    },
  };
}

/**
 * Whether `tryAcquire` by `holder` would succeed now, by a read alone (no write lock): a standby
 * polls this and takes the write lock only when it says yes.
 */
export function leaseLooksFree(db: Db, name: string, holder: string, nowMs: number): boolean {
  const row = db.prepare("SELECT holder, pid, pid_started, epoch, expires_at FROM leases WHERE name = ?").get(name) as Row | undefined;
  return !row || row.holder === holder || row.expires_at <= nowMs || holderGone(row.pid, row.pid_started);
}
