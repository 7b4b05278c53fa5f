import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import cron from "node-cron";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, testConfig } from "../runtime/config.ts";
import { createContext } from "../runtime/context.ts";
import { startServer, type RunningServer } from "../runtime/server.ts";
import { processHolder, WRITER_LEASE } from "../runtime/lease-keeper.ts";
import { CURRENT_MIGRATIONS_DIR, migrate, openDatabase, type Db } from "../storage/db.ts";
import { currentLease, LeaseLostError, processStartTime } from "../storage/lease.ts";

/**
 * The writer lease wired into the runtime (issue 24 part 1), in this process: a core started with
 * LEASE=on while another live process holds the lease is a standby — it writes nothing, starts no
 * feed, resolver or job, does not listen, and its writer's transactions are refused by the fence —
 * until the holder dies, when it takes over at its next poll. The pair across processes, with
 * nginx, is tests/deploy.failover.test.ts.
 */
describe("the writer lease in the runtime (LEASE=on)", () => {
  let dir: string;
  let db: Db;
  let other: ChildProcess;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tap-lease-runtime-"));
    db = openDatabase(join(dir, "current.db"), { busyTimeoutMs: 5000, synchronous: "NORMAL" });
    migrate(db, CURRENT_MIGRATIONS_DIR);
    // Another core holds the lease: a live process of its own (a kill -9 of it is the holder's crash).
    other = spawn("sleep", ["60"], { stdio: "ignore" });
    db.prepare("INSERT INTO leases (name, holder, pid, pid_started, epoch, expires_at) VALUES (?, 'the-other-core', ?, ?, 1, ?)").run(
      WRITER_LEASE,
      other.pid!,
      processStartTime(other.pid!)!,
      Date.now() + 60_000,
    );
  });
  afterEach(() => {
    other.kill("SIGKILL");
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const scheduledJobs = () => [...cron.getTasks().values()].map((task) => task.name).filter((name) => name !== undefined);

  for (const mode of ["thread", "inline"] as const) {
    it(`a process that does not hold the lease cannot write: the fence refuses its transactions (WRITER_MODE=${mode})`, async () => {
      const lost: Error[] = [];
      const booted = await createContext(testConfig({ DATA_DIR: dir, LEASE: "on", WRITER_MODE: mode, PRICE_SOURCES: "manual" }), { onLeaseLost: (e) => lost.push(e) });
      try {
        const before = count("SELECT COUNT(*) AS n FROM accounts");
        await expect(booted.ctx.queue.run("accounts.ensurePlayer", "0x00000000000000000000000000000000000000aa", Date.now(), 1_000_000)).rejects.toBeInstanceOf(LeaseLostError);
        expect(count("SELECT COUNT(*) AS n FROM accounts")).toBe(before);
        expect(lost).toHaveLength(1);
        // Once the row names this process (as after its takeover), the same write goes through.
        db.prepare("UPDATE leases SET holder = ?, epoch = 2 WHERE name = ?").run(processHolder, WRITER_LEASE);
        await booted.ctx.queue.run("accounts.ensurePlayer", "0x00000000000000000000000000000000000000aa", Date.now(), 1_000_000);
        expect(count("SELECT COUNT(*) AS n FROM accounts")).toBe(before + 1);
      } finally {
        await booted.close();
      }
    });
  }

  it("a standby starts nothing and listens nowhere until the holder dies; then it takes over at its next poll", async () => {
    const stateFile = join(dir, "core.state");
    const state = () => readFileSync(stateFile, "utf8").split(" ")[0] ?? "";
    let server: RunningServer | undefined;
    // The holder's feed has been ticking (a stored tick); the standby boots now.
    const firstTickAt = Date.now();
    db.prepare("INSERT INTO price_ticks (t, price_cents) VALUES (?, 9500000)").run(firstTickAt);
    const started = startServer(
      testConfig({ DATA_DIR: dir, PORT: 0, LEASE: "on", LEASE_POLL_MS: 20, CORE_STATE_FILE: stateFile, PRICE_SOURCES: "synthetic", SYNTHETIC_TICK_MS: 20, JOBS_ENABLED: true }),
    ).then((s) => (server = s));
    try {
      const deadline = Date.now() + 30_000;
      while (!(await Promise.resolve().then(() => state()).catch(() => "")).startsWith("standby")) {
        if (Date.now() > deadline) throw new Error("never became the standby");
        await new Promise((r) => setTimeout(r, 20));
      }
      // A warm standby for a while: no tick stored (no feed), no threshold recorded, nothing settled, not listening.
      await new Promise((r) => setTimeout(r, 500));
      expect(server).toBeUndefined();
      expect(state()).toBe("standby");
      expect(count("SELECT COUNT(*) AS n FROM price_ticks")).toBe(1);
      expect(count("SELECT COUNT(*) AS n FROM stale_thresholds")).toBe(0);
      // The holder went on ticking for longer than PRICE_STALE_MS (2 s) after the standby booted.
      // Meanwhile it recorded a stale gap of its feed (settlement voids the windows it overlaps).
      while (Date.now() < firstTickAt + 3000) await new Promise((r) => setTimeout(r, 50));
      db.prepare("INSERT INTO stale_gaps (start_at, end_at) VALUES (?, ?)").run(firstTickAt + 2300, firstTickAt + 2600);
      const lastTickAt = Date.now();
      db.prepare("INSERT INTO price_ticks (t, price_cents) VALUES (?, 9500100)").run(lastTickAt);
      expect(currentLease(db, WRITER_LEASE)).toMatchObject({ holder: "the-other-core", epoch: 1 });
      // No job is scheduled on a standby (backup, archive, integrity run on the holder only).
      expect(scheduledJobs()).toEqual([]);

      const killedAt = Date.now();
      other.kill("SIGKILL");
      await started;
      const tookOverMs = Date.now() - killedAt;
      expect(state()).toBe("holder");
      expect(currentLease(db, WRITER_LEASE)).toMatchObject({ holder: processHolder, epoch: 2 });
      // Within a poll or two of the death, not after the 60 s the dead holder's lease had left.
      expect(tookOverMs).toBeLessThan(10_000);
      expect(scheduledJobs()).toEqual(expect.arrayContaining(["archive", "backup", "integrity"]));
      // Now it serves, runs the feed and writes.
      expect((await fetch(`${server!.url}/healthz`)).status).toBe(200);
      const until = Date.now() + 10_000;
      while (count("SELECT COUNT(*) AS n FROM price_ticks") <= 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(count("SELECT COUNT(*) AS n FROM price_ticks")).toBeGreaterThan(2);
      // It resumed from the holder's last tick and gaps, not from what it read when it booted: no
      // stale gap stands for the time it waited (that would void every bet whose window overlapped it).
      await new Promise((r) => setTimeout(r, 500));
      expect(db.prepare("SELECT start_at, end_at FROM stale_gaps").all()).toEqual([{ start_at: firstTickAt + 2300, end_at: firstTickAt + 2600 }]);
      // And its settlement knows the gap the old holder recorded while it waited: read at takeover, not at boot.
      expect(server!.ctx.services.price.staleGaps(firstTickAt, lastTickAt)).toEqual([{ startAt: firstTickAt + 2300, endAt: firstTickAt + 2600 }]);
    } finally {
      other.kill("SIGKILL"); // a failure half-way: the standby takes over, so that it can be closed
      await started.catch(() => undefined);
      await server?.close();
    }
    // SIGTERM's path: the holder released the lease on its way out, for the standby's next poll.
    expect(currentLease(db, WRITER_LEASE)).toMatchObject({ holder: processHolder, expiresAt: 0 });
    expect(state()).toBe("stopped");
  }, 60_000);
});

describe("lease settings", () => {
  it("off by default (the single process and ROLE=all are unchanged); validated when on", () => {
    expect(testConfig().LEASE).toBe("off");
    expect(testConfig({ LEASE: "on" })).toMatchObject({ LEASE: "on", LEASE_TTL_MS: 5000, LEASE_RENEW_MS: 1000, LEASE_POLL_MS: 50 });
    expect(() => loadConfig({ LEASE: "on", LEASE_TTL_MS: "1000", LEASE_RENEW_MS: "800" })).toThrow(/LEASE_RENEW_MS/);
    expect(() => loadConfig({ LEASE: "maybe" })).toThrow(ConfigError);
    expect(() => loadConfig({ ROLE: "edge", REDIS_URL: "redis://127.0.0.1:6379", LEASE: "on" })).toThrow(/LEASE/);
    expect(() => loadConfig({ LISTEN_FDS: "2" })).toThrow(/LISTEN_FDS/);
  });
});
