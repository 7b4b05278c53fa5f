import Database from "libsql";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clientOf, killAll, startChildServer, type ChildServer } from "./helpers/child.ts";
import { signIn } from "./helpers/siwe.ts";
import { ADMIN_TOKEN, integrity, newKey, pickCell, postBet, type GridCell } from "./helpers/bets-fixture.ts";
import { readManifest } from "../storage/backup.ts";

/**
 * The restore drill (issue 24): bets flow into a running server while `npm run job -- backup` takes
 * a backup from another process; scripts/restore.sh refuses to restore under the running server,
 * then brings the backup into a fresh data directory; a server started on it passes the integrity
 * check and has every bet acknowledged (2xx) before the backup began, and no bet newer than the
 * backup's point.
 */
const root = join(import.meta.dirname, "..");
const PLAYERS = 12;
const STAKE = 100_000;
const ACKED_BEFORE_BACKUP = 150;

interface Acked {
  id: number;
  stake: number;
  address: string;
}

function runBackupJob(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "runtime", "job-cli.ts"), "backup"], {
      cwd: root,
      env: { ...process.env, ...env, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const restore = (...args: string[]) => spawnSync("bash", [join(root, "scripts", "restore.sh"), ...args], { encoding: "utf8", timeout: 60_000 });

describe("restore drill", () => {
  const base = mkdtempSync(join(tmpdir(), "tap-restore-"));
  const dataDir = join(base, "data");
  const backupDir = join(base, "backups");
  const restoredDir = join(base, "restored");
  const children: ChildServer[] = [];
  afterAll(async () => {
    await killAll(children);
    rmSync(base, { recursive: true, force: true });
  });

  it("brings a backup taken under load back: integrity ok, every bet acknowledged before it there", async () => {
    const common = { ADMIN_TOKEN, BACKUP_DIR: backupDir, BET_RATE_BURST: "100000", BET_RATE_PER_SEC: "100000" };
    const first = await startChildServer({ ...common, DATA_DIR: dataDir });
    children.push(first);
    const api = clientOf(first);
    const players = await Promise.all(Array.from({ length: PLAYERS }, () => signIn(api)));
    let cell: GridCell = await pickCell(api, 1);

    // Bets from every player until told to stop; each 201 is recorded with the phase it was answered in.
    const phases = { before: [] as Acked[], during: [] as Acked[], after: [] as Acked[] };
    let phase: keyof typeof phases = "before";
    let stopping = false;
    let reachedTarget!: () => void;
    const target = new Promise<void>((resolve) => (reachedTarget = resolve));
    const loop = async (token: string) => {
      while (!stopping) {
        const res = await postBet(api, token, { col: cell.col, row: cell.row, stakeMicroUsd: STAKE, idempotencyKey: newKey() });
        if (res.status === 201) {
          phases[phase].push({ id: Number(res.body.bet.id), stake: res.body.bet.stakeMicroUsd, address: res.body.bet.address });
          if (phases.before.length >= ACKED_BEFORE_BACKUP) reachedTarget();
        } else if (res.status === 409 && res.body.error.code === "cell_locked") {
          cell = await pickCell(api, 1); // the column came too close: bet on a later one
        } else if (res.status !== 429) {
          throw new Error(`unexpected ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
    };
    const loops = players.map((p) => loop(p.token));
    await target;

    phase = "during";
    const job = await runBackupJob({ ...common, DATA_DIR: dataDir });
    phase = "after";
    const afterCount = () => phases.after.length;
    while (afterCount() < 20) await new Promise((r) => setTimeout(r, 20));
    stopping = true;
    await Promise.all(loops);
    expect(job.code, job.stderr + job.stdout).toBe(0);
    const result = JSON.parse(job.stdout) as { stamp: string; dir: string; files: Record<string, { snapshotMs: number }> };
    expect(Object.keys(result.files).sort()).toEqual(["current.db", "history.db"]);
    const manifest = readManifest(result.dir);
    const newestBetInBackup = manifest.files["current.db"]!.tables.bets!.maxKey!;

    // Not under a running server: nothing in its directory is touched.
    const inode = statSync(join(dataDir, "current.db")).ino;
    const refused = restore(backupDir, dataDir);
    expect(refused.status, refused.stdout + refused.stderr).toBe(75);
    expect(refused.stderr).toContain(`pid ${first.child.pid}`);
    expect(refused.stderr).toMatch(/is in use; stop the server first/);
    expect(statSync(join(dataDir, "current.db")).ino).toBe(inode);
    expect(readdirSync(dataDir).some((f) => f.startsWith("pre-restore-"))).toBe(false);

    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);

    const done = restore(backupDir, restoredDir);
    expect(done.status, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toContain(`backup ${result.dir}`);
    expect(done.stdout).toMatch(/current\.db: backup copy checked \(integrity ok/);
    expect(done.stdout).toMatch(/current\.db: restored/);
    expect(done.stdout).toMatch(/history\.db: restored/);
    expect(existsSync(join(restoredDir, "sessions.db"))).toBe(false);

    const second = await startChildServer({ ...common, DATA_DIR: restoredDir });
    children.push(second);
    const report = await integrity(clientOf(second));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);

    const db = new Database(join(restoredDir, "current.db"));
    try {
      const bet = db.prepare("SELECT b.stake_micro_usd AS stake, b.address, (SELECT count(*) FROM ledger_entries e WHERE e.bet_id = b.id AND e.kind = 'stake' AND e.account_id = b.account_id) AS stakes FROM bets b WHERE b.id = ?");
      const present = (a: Acked) => {
        const row = bet.get(a.id) as { stake: number; address: string; stakes: number } | undefined;
        return row !== undefined && row.stake === a.stake && row.address === a.address && row.stakes === 1;
      };
      expect(phases.before.filter((a) => !present(a)).map((a) => a.id), "bets acknowledged before the backup, missing after the restore").toEqual([]);
      // The backup is one point in time: every acknowledged bet up to its newest is there, none after.
      const all = [...phases.before, ...phases.during, ...phases.after];
      expect(all.filter((a) => a.id <= newestBetInBackup && !present(a)).map((a) => a.id)).toEqual([]);
      expect(all.filter((a) => a.id > newestBetInBackup && bet.get(a.id) !== undefined).map((a) => a.id)).toEqual([]);
      const duringKept = phases.during.filter(present).length;
      console.info(
        `restore drill: acknowledged ${phases.before.length} bets before the backup, ${phases.during.length} while it ran (${duringKept} in it), ` +
          `${phases.after.length} after; snapshot held ${result.files["current.db"]!.snapshotMs} ms (current.db); restored server: integrity ok, ${report.checkedBets} bets`,
      );
    } finally {
      db.close();
    }
  });
});

describe("restore.sh --force", () => {
  const base = mkdtempSync(join(tmpdir(), "tap-restore-force-"));
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it("restores under a process that holds the files open only when told, and says so", async () => {
    const source = join(base, "source");
    const target = join(base, "target");
    const job = await runBackupJob({ DATA_DIR: source, BACKUP_DIR: join(base, "backups"), PRICE_SOURCES: "manual" });
    expect(job.code, job.stderr).toBe(0);
    migratedDataDir(target); // the target gets databases of its own
    const holder = new Database(join(target, "current.db")); // this test process holds the target open
    try {
      const refused = restore(join(base, "backups"), target);
      expect(refused.status).toBe(75);
      expect(refused.stderr).toContain(`pid ${process.pid}`);
      const forced = restore("--force", join(base, "backups"), target);
      expect(forced.status, forced.stderr).toBe(0);
      expect(forced.stdout).toMatch(/--force: restoring although the files are open/);
      expect(forced.stdout).toMatch(/moved what was there to .*pre-restore-/);
    } finally {
      holder.close();
    }
  });
});

/** Creates a data directory's databases (the job CLI migrates them on its way). */
function migratedDataDir(dataDir: string): void {
  const run = spawnSync(process.execPath, ["--import", "tsx", join(root, "runtime", "job-cli.ts"), "integrity"], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: "warn", PRICE_SOURCES: "manual" },
    encoding: "utf8",
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(run.stderr);
}
