import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync, closeSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CURRENT_MIGRATIONS_DIR, HISTORY_MIGRATIONS_DIR, migrate, openDatabase, type Db } from "../storage/db.ts";
import { ensurePlayerAccount, HOUSE_ACCOUNT_ID, transfer } from "../storage/ledger.ts";
import { BackupVerificationError, backupStamp, backupsToPrune, listBackups, pruneBackups, readManifest, snapshotDatabase, stampTime, takeBackup, verifyCopy } from "../storage/backup.ts";
import { ConfigError, loadConfig, testConfig } from "../runtime/config.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

describe("backup retention (BACKUP_KEEP_RECENT, BACKUP_KEEP_DAILY)", () => {
  const now = Date.UTC(2026, 11, 7, 12, 30, 0);
  // Hourly backups over the last 10 days, newest first.
  const hourly = Array.from({ length: 240 }, (_, i) => backupStamp(now - 20 * 60_000 - i * HOUR_MS));

  it("keeps the newest N and the newest of each of the last D UTC days, removes the rest", () => {
    const removed = backupsToPrune(hourly, now, 24, 7);
    const kept = hourly.filter((s) => !removed.includes(s));
    expect(kept.slice(0, 24)).toEqual(hourly.slice(0, 24));
    const older = kept.slice(24).map(stampTime);
    // Within the 24 newest, today and yesterday already have theirs; then one per day, the newest (23:10 UTC) of each.
    expect(older.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(Array(older.length).fill("23:10"));
    expect(new Set(kept.map((s) => Math.floor(stampTime(s) / DAY_MS))).size).toBe(7);
    expect(kept.every((s) => now - stampTime(s) < 7 * DAY_MS)).toBe(true);
    expect(removed.length + kept.length).toBe(hourly.length);
  });

  it("never removes the newest backup, whatever the settings", () => {
    expect(backupsToPrune(hourly.slice(0, 3), now + 30 * DAY_MS, 1, 0)).toEqual(hourly.slice(1, 3));
  });

  it("settings are validated at start-up; BACKUP_DIR defaults to DATA_DIR/backups", () => {
    expect(() => loadConfig({ BACKUP_KEEP_RECENT: "0" })).toThrow(ConfigError);
    expect(() => loadConfig({ BACKUP_KEEP_DAILY: "-1" })).toThrow(/BACKUP_KEEP_DAILY/);
    expect(testConfig({ DATA_DIR: "/srv/tap" }).BACKUP_DIR).toBe("/srv/tap/backups");
    expect(testConfig({ DATA_DIR: "/srv/tap", BACKUP_DIR: "/mnt/b" }).BACKUP_DIR).toBe("/mnt/b");
  });
});

describe("backup copies and their verification", () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tap-backup-"));
    db = openDatabase(join(dir, "current.db"), { busyTimeoutMs: 1000, synchronous: "NORMAL" });
    migrate(db, CURRENT_MIGRATIONS_DIR);
    const history = openDatabase(join(dir, "history.db"), { busyTimeoutMs: 1000, synchronous: "NORMAL" });
    migrate(history, HISTORY_MIGRATIONS_DIR);
    history.close();
    for (let i = 0; i < 5; i++) {
      const { accountId } = ensurePlayerAccount(db, `0x${String(i).padStart(40, "a")}`, 1, 10_000_000);
      transfer(db, { debitAccountId: accountId, creditAccountId: HOUSE_ACCOUNT_ID, amountMicroUsd: 1_000_000 + i, kind: "stake", betId: null, at: 2 });
    }
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a copy taken while the source is open matches it at the copy's point, even after the source moved on", () => {
    const copy = join(dir, "copy.db");
    snapshotDatabase(join(dir, "current.db"), copy);
    // More money moves after the copy: the source is compared up to the copy's newest rows.
    transfer(db, { debitAccountId: 3, creditAccountId: HOUSE_ACCOUNT_ID, amountMicroUsd: 5, kind: "stake", betId: null, at: 3 });
    const report = verifyCopy(join(dir, "current.db"), copy);
    expect(report.tables.ledger_entries).toMatchObject({ rows: 20, maxKey: 20 });
    expect(report.accounts).toEqual({ rows: 7, balanceSum: 0 });
  });

  it("refuses a copy that lost a row, or whose balances do not add up", () => {
    const copy = join(dir, "copy.db");
    snapshotDatabase(join(dir, "current.db"), copy);
    const tampered = openDatabase(copy, { busyTimeoutMs: 1000, synchronous: "NORMAL" });
    tampered.exec("DELETE FROM ledger_entries WHERE id = 4");
    tampered.close();
    expect(() => verifyCopy(join(dir, "current.db"), copy)).toThrow(/ledger_entries up to 20: 19 rows/);
    rmSync(copy);
    snapshotDatabase(join(dir, "current.db"), copy);
    const skewed = openDatabase(copy, { busyTimeoutMs: 1000, synchronous: "NORMAL" });
    skewed.exec("UPDATE accounts SET balance_micro_usd = balance_micro_usd + 1 WHERE id = 3");
    skewed.close();
    expect(() => verifyCopy(join(dir, "current.db"), copy)).toThrow(BackupVerificationError);
  });

  it("refuses a damaged copy", () => {
    const copy = join(dir, "copy.db");
    snapshotDatabase(join(dir, "current.db"), copy);
    const fd = openSync(copy, "r+");
    const page = 4096;
    for (let p = 1; p * page < statSync(copy).size; p++) writeSync(fd, Buffer.alloc(200, 0x5a), 0, 200, p * page + 100);
    closeSync(fd);
    expect(() => verifyCopy(join(dir, "current.db"), copy)).toThrow();
  });

  it("takeBackup writes <stamp>/ with both copies and a manifest, links an unchanged file, removes a failed attempt", () => {
    const root = join(dir, "backups");
    const t0 = Date.UTC(2026, 11, 7, 10, 35, 0);
    const first = takeBackup(dir, root, { now: t0 });
    expect(first.dir).toBe(join(root, "20261207T103500Z"));
    expect(Object.keys(readManifest(first.dir).files).sort()).toEqual(["current.db", "history.db"]);
    transfer(db, { debitAccountId: 3, creditAccountId: HOUSE_ACCOUNT_ID, amountMicroUsd: 7, kind: "stake", betId: null, at: 3 });
    const second = takeBackup(dir, root, { now: t0 + HOUR_MS });
    // history.db did not change: the second backup shares the first one's verified copy.
    expect(second.files["history.db"]!.sameAs).toBe(first.stamp);
    expect(statSync(join(second.dir, "history.db")).ino).toBe(statSync(join(first.dir, "history.db")).ino);
    expect(second.files["current.db"]!.sameAs).toBeUndefined();
    expect(second.files["current.db"]!.tables.ledger_entries!.rows).toBe(22);
    expect(listBackups(root).map((b) => b.stamp)).toEqual([second.stamp, first.stamp]);

    rmSync(join(dir, "history.db"));
    mkdirSync(join(dir, "history.db")); // not a database: the copy fails
    expect(() => takeBackup(dir, root, { now: t0 + 2 * HOUR_MS })).toThrow();
    expect(existsSync(join(root, `${backupStamp(t0 + 2 * HOUR_MS)}.partial`))).toBe(false);
    expect(listBackups(root)).toHaveLength(2);

    mkdirSync(join(root, `${backupStamp(t0 - DAY_MS)}.partial`));
    expect(pruneBackups(root, t0 + 2 * HOUR_MS, 1, 0)).toEqual([first.stamp, `${backupStamp(t0 - DAY_MS)}.partial`]);
    expect(listBackups(root).map((b) => b.stamp)).toEqual([second.stamp]);
  });
});
