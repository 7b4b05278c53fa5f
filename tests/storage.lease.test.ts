import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type Db } from "../storage/db.ts";
import { killAll } from "./helpers/child.ts";
import { assertLeaseHeld, currentLease, ensureLeaseTable, LeaseLostError, processStartTime, releaseLease, renewLease, tryAcquire, type HeldLease } from "../storage/lease.ts";

// The writer lease (issue 24 part 1, a storage primitive not wired into the runtime yet): acquire,
// renew, release, takeover after the holder dies (kill -9 at once, a hung holder after the TTL), and
// fencing: once taken over, an old holder's transaction cannot commit.
const root = join(import.meta.dirname, "..");
const TTL_MS = 1000;

describe("writer lease in one process", () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tap-lease-"));
    db = openDatabase(join(dir, "current.db"), { busyTimeoutMs: 1000, synchronous: "NORMAL" });
    ensureLeaseTable(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const a = { name: "writer", holder: "a" };
  const b = { name: "writer", holder: "b" };

  it("one holder at a time; renewing keeps it; expiry hands it over with a new epoch", () => {
    const first = tryAcquire(db, a, TTL_MS, 1000);
    expect(first).toMatchObject({ acquired: true, epoch: 1, expiresAt: 2000 });
    expect(tryAcquire(db, b, TTL_MS, 1500)).toEqual({ acquired: false, holder: "a", epoch: 1, expiresAt: 2000 });
    expect(renewLease(db, first as HeldLease, TTL_MS, 1900)).toBe(true);
    expect(tryAcquire(db, b, TTL_MS, 2500)).toMatchObject({ acquired: false, holder: "a" }); // renewed to 2900
    const second = tryAcquire(db, b, TTL_MS, 2900);
    expect(second).toMatchObject({ acquired: true, holder: "b", epoch: 2 });
    expect(renewLease(db, first as HeldLease, TTL_MS, 2950)).toBe(false);
    expect(currentLease(db, "writer")).toMatchObject({ holder: "b", epoch: 2 });
  });

  it("a holder re-taking its own expired lease keeps the epoch (nobody wrote in between)", () => {
    tryAcquire(db, a, TTL_MS, 0);
    expect(tryAcquire(db, a, TTL_MS, 5000)).toMatchObject({ acquired: true, epoch: 1 });
  });

  it("release frees it at once", () => {
    const held = tryAcquire(db, a, 60_000, 0) as HeldLease;
    expect(releaseLease(db, held)).toBe(true);
    expect(tryAcquire(db, b, TTL_MS, 1)).toMatchObject({ acquired: true, epoch: 2 });
    expect(releaseLease(db, held)).toBe(false);
  });

  it("fences: after a takeover the old holder's transaction aborts before it writes", () => {
    db.exec("CREATE TABLE money (n INTEGER)");
    const old = tryAcquire(db, a, TTL_MS, 0) as HeldLease;
    tryAcquire(db, b, TTL_MS, TTL_MS);
    db.exec("BEGIN IMMEDIATE");
    expect(() => assertLeaseHeld(db, old)).toThrow(LeaseLostError);
    db.exec("ROLLBACK");
    expect(() => assertLeaseHeld(db, { ...old, holder: "b", epoch: 2 })).not.toThrow();
  });

  it("reads a process's start time, and none for a pid that does not exist", () => {
    expect(processStartTime(process.pid)).toMatch(/^\d+$/);
    expect(processStartTime(2 ** 22 + 17)).toBeUndefined();
  });
});

interface Holder {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  next(prefix: string): Promise<string>;
  exited: Promise<number | string>;
}

function startHolder(path: string, holder: string, ttlMs: number, renewMs: number): Holder {
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "tests", "fixtures", "lease-holder.ts"), path, holder, String(ttlMs), String(renewMs)], { cwd: root });
  const lines: string[] = [];
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  let buffer = "";
  child.stdout.on("data", (d) => {
    buffer += d;
    let at: number;
    while ((at = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      lines.push(line);
      const i = waiters.findIndex((w) => line.startsWith(w.prefix));
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(line);
    }
  });
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    lines,
    exited,
    next: (prefix) =>
      new Promise((resolve, reject) => {
        const seen = lines.find((l) => l.startsWith(prefix));
        if (seen) return resolve(seen);
        const timer = setTimeout(() => reject(new Error(`no "${prefix}" line from ${holder}: ${lines.join(" | ")} ${stderr}`)), 30_000);
        waiters.push({ prefix, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      }),
  };
}

describe("writer lease across processes", () => {
  const dir = mkdtempSync(join(tmpdir(), "tap-lease-procs-"));
  const path = join(dir, "current.db");
  const holders: Holder[] = [];
  const start = (...args: Parameters<typeof startHolder> extends [string, ...infer R] ? R : never) => {
    const h = startHolder(path, ...args);
    holders.push(h);
    return h;
  };
  let db: Db;
  afterAll(async () => {
    await killAll(holders);
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("kill -9 of the holder: the lease is taken at the next try, long before its TTL", async () => {
    db = openDatabase(path, { busyTimeoutMs: 5000, synchronous: "NORMAL" });
    ensureLeaseTable(db);
    const holder = start("killed", 60_000, 0);
    expect(await holder.next("acquired")).toBe("acquired 1");
    expect(tryAcquire(db, { name: "writer", holder: "standby" }, TTL_MS, Date.now())).toMatchObject({ acquired: false, holder: "killed" });
    holder.child.kill("SIGKILL");
    await holder.exited;
    expect(tryAcquire(db, { name: "writer", holder: "standby" }, TTL_MS, Date.now())).toMatchObject({ acquired: true, epoch: 2 });
    // Give it back for the next case.
    releaseLease(db, currentLease(db, "writer")!);
  });

  it("SIGTERM: the holder releases on its way out and the standby takes over at once", async () => {
    const holder = start("leaving", 60_000, 100);
    expect(await holder.next("acquired")).toBe("acquired 3");
    holder.child.kill("SIGTERM");
    expect(await holder.exited, holder.lines.join("|")).toBe(0);
    expect(currentLease(db, "writer")).toMatchObject({ holder: "leaving", expiresAt: 0 });
    expect(tryAcquire(db, { name: "writer", holder: "standby" }, TTL_MS, Date.now())).toMatchObject({ acquired: true, epoch: 4 });
    releaseLease(db, currentLease(db, "writer")!);
  });

  it("a hung holder loses the lease after its TTL, and once awake cannot write (fenced)", async () => {
    const holder = start("hung", 500, 0);
    expect(await holder.next("acquired")).toBe("acquired 5");
    holder.child.stdin.write("write 1\n");
    expect(await holder.next("wrote 1")).toBe("wrote 1");
    holder.child.kill("SIGSTOP");
    await new Promise((r) => setTimeout(r, 600));
    const other = start("successor", 60_000, 0);
    expect(await other.next("acquired")).toBe("acquired 6");
    other.child.stdin.write("write 2\n");
    expect(await other.next("wrote 2")).toBe("wrote 2");
    holder.child.kill("SIGCONT");
    holder.child.stdin.write("write 3\n");
    expect(await holder.next("fenced 3")).toBe("fenced 3");
    const writes = db.prepare("SELECT n, holder, epoch FROM fenced_writes ORDER BY n").all();
    expect(writes).toEqual([
      { n: 1, holder: "hung", epoch: 5 },
      { n: 2, holder: "successor", epoch: 6 },
    ]);
  });

  it("of several processes starting at once on a free lease, exactly one gets it", async () => {
    releaseLease(db, currentLease(db, "writer")!);
    const racers = ["r1", "r2", "r3"].map((name) => start(name, 60_000, 0));
    const outcomes = await Promise.all(racers.map((r) => Promise.race([r.next("acquired"), r.next("refused")])));
    expect(outcomes.filter((o) => o.startsWith("acquired"))).toEqual(["acquired 7"]);
    expect(outcomes.filter((o) => o.startsWith("refused"))).toHaveLength(2);
  });
});
