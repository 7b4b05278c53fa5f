import { hostname } from "node:os";
import { openDatabase, type Db } from "../storage/db.ts";
import { leaseLooksFree, processStartTime, releaseLease, renewLease, tryAcquire, type HeldLease, type LeaseIdentity } from "../storage/lease.ts";
import type { Logger } from "./logger.ts";

/** The one lease of the service: whoever holds it is the writer (storage/lease.ts). */
export const WRITER_LEASE = "writer";

/**
 * This process's name as a lease holder: unique per process run (a pid is reused, its start time
 * with it is not). A job process started by the holder (runtime/job-child.ts) inherits the holder's
 * name through LEASE_HOLDER, so its writes pass the holder's fence while the holder holds it, and
 * fail with it once the lease is gone.
 */
export const processHolder = process.env.LEASE_HOLDER || `${hostname()}:${process.pid}:${processStartTime(process.pid) ?? "?"}`;

export interface LeaseKeeperOptions {
  /** current.db: the lease row lives in the database it guards. */
  path: string;
  busyTimeoutMs: number;
  ttlMs: number;
  renewMs: number;
  pollMs: number;
  log: Logger;
  /** The lease was taken by another process: stop serving now. */
  onLost(reason: string): void;
  now?: () => number;
}

export interface LeaseKeeper {
  readonly identity: LeaseIdentity;
  /** Resolves once this process holds the lease (polling every pollMs); rejects if `abort` is signalled first. */
  acquire(abort?: AbortSignal): Promise<HeldLease>;
  held(): HeldLease | undefined;
  /** Gives the lease up (after the writer flushed) so the standby takes it at its next poll; closes the connection. */
  release(): void;
  /** Stops renewing and closes the connection without releasing (a process that lost the lease). */
  close(): void;
}

/**
 * Takes and keeps the writer lease for a core process started with LEASE=on. Its own connection
 * (the API's is query-only): a standby reads the row each poll and tries `BEGIN IMMEDIATE` only when
 * the row says the lease is free (released, expired, or its holder's process gone), so a standby
 * does not take SQLite's write lock 20 times a second from the holder's writer. The holder renews
 * every renewMs; a renewal that finds another holder calls onLost (the fence, storage/lease.ts
 * leaseFence, already refuses every write by then).
 */
export function createLeaseKeeper(options: LeaseKeeperOptions): LeaseKeeper {
  const now = options.now ?? Date.now;
  const identity: LeaseIdentity = { name: WRITER_LEASE, holder: processHolder, pid: process.pid };
  let db: Db | undefined = openDatabase(options.path, { busyTimeoutMs: options.busyTimeoutMs, synchronous: "NORMAL" });
  let lease: HeldLease | undefined;
  let renewTimer: NodeJS.Timeout | undefined;

  const renew = () => {
    if (!db || !lease) return;
    try {
      if (renewLease(db, lease, options.ttlMs, now())) return;
      stopRenewing();
      options.onLost(`the lease was taken by another process (epoch ${lease.epoch} is over)`);
    } catch (error) {
      // A renewal that fails (a full disk, an I/O error) is not a loss: taking the lease is a write
      // too, so nobody can take it while writes fail. Once they work again, either this renews it
      // or the standby took it after LEASE_TTL_MS, and then this process's next write is fenced
      // (onLeaseLost) or its next renewal finds it gone. Leaving now would turn a disk fault that
      // answers 503 into no answer at all.
      options.log.warn({ err: error, expiresAt: lease.expiresAt }, "lease: renewal failed; still writing under the fence");
    }
  };
  const stopRenewing = () => {
    clearInterval(renewTimer);
    renewTimer = undefined;
  };

  return {
    identity,
    held: () => lease,
    async acquire(abort) {
      let waitingSince: number | undefined;
      for (;;) {
        if (abort?.aborted) throw new Error("stopped while waiting for the lease");
        if (!db) throw new Error("the lease keeper is closed");
        try {
          if (leaseLooksFree(db, WRITER_LEASE, identity.holder, now())) {
            const result = tryAcquire(db, identity, options.ttlMs, now());
            if (result.acquired) {
              lease = { name: result.name, holder: result.holder, epoch: result.epoch, expiresAt: result.expiresAt };
              renewTimer = setInterval(renew, options.renewMs);
              options.log.info({ epoch: lease.epoch, holder: lease.holder, waitedMs: waitingSince === undefined ? 0 : now() - waitingSince }, "lease: holding the writer lease");
              return lease;
            }
          }
        } catch (error) {
          // SQLITE_BUSY while the holder's writer commits: try again at the next poll.
          options.log.debug({ err: error }, "lease: acquire attempt failed");
        }
        if (waitingSince === undefined) {
          waitingSince = now();
          options.log.info({ holder: identity.holder }, "lease: held by another process; waiting as the standby");
        }
        await new Promise((resolve) => setTimeout(resolve, options.pollMs));
      }
    },
    release() {
      stopRenewing();
      if (db && lease) {
        try {
          releaseLease(db, lease);
          options.log.info({ epoch: lease.epoch }, "lease: released");
        } catch (error) {
          options.log.error({ err: error }, "lease: release failed (the standby takes it after LEASE_TTL_MS)");
        }
      }
      lease = undefined;
      db?.close();
      db = undefined;
    },
    close() {
      stopRenewing();
      lease = undefined;
      db?.close();
      db = undefined;
    },
  };
}
