import { Gauge } from "prom-client";
import type { AppContext, InstallModule } from "../types.ts";
import { BackupVerificationError, listBackups, pruneBackups, type BackupManifest } from "../../storage/backup.ts";
import type { BackupThreadData } from "../../storage/backup-thread.ts";
import { moduleUrl, spawnWorker } from "../../storage/workers.ts";

export interface BackupResult {
  stamp: string;
  dir: string;
  durationMs: number;
  files: Record<string, { bytes: number; snapshotMs: number; verifyMs: number; sameAs?: string }>;
  /** Backups (and abandoned partial ones) that retention removed after this one. */
  pruned: string[];
}

export interface BackupService {
  /** Takes a verified backup of current.db and history.db into BACKUP_DIR, then applies retention. */
  run(): Promise<BackupResult>;
}

declare module "../types.ts" {
  interface Services {
    backup: BackupService;
  }
}

/** Runs one takeBackup in a thread of its own; resolves with its manifest, rejects with its error. */
async function backupInThread(data: BackupThreadData): Promise<BackupManifest & { dir: string }> {
  const worker = await spawnWorker(moduleUrl("../../storage/backup-thread.ts", import.meta.url), data);
  try {
    return await new Promise((resolve, reject) => {
      worker.once("message", (message: { t: string; manifest?: BackupManifest & { dir: string }; name?: string; message?: string }) => {
        if (message.t === "done") resolve(message.manifest!);
        else reject(message.name === "BackupVerificationError" ? new BackupVerificationError(message.message) : new Error(message.message));
      });
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the backup thread exited (code ${code}) without an answer`)));
      worker.postMessage({ t: "run" });
    });
  } finally {
    await worker.terminate();
  }
}

function registerBackupMetrics(ctx: AppContext) {
  const registers = [ctx.metrics.registry];
  new Gauge({
    name: "backup_newest_timestamp_seconds",
    help: "When the newest complete, verified backup in BACKUP_DIR was taken (0: none there)",
    registers,
    collect() {
      try {
        this.set((listBackups(ctx.config.BACKUP_DIR)[0]?.takenAt ?? 0) / 1000);
      } catch {
        this.set(0);
      }
    },
  });
  return {
    duration: new Gauge({ name: "backup_duration_seconds", help: "How long the last backup took, copies and verification included", registers }),
    snapshot: new Gauge({
      name: "backup_snapshot_seconds",
      help: "How long the last backup held its read snapshot of each database (VACUUM INTO; writers go on meanwhile)",
      labelNames: ["file"] as const,
      registers,
    }),
  };
}

/**
 * Scheduled online backups (issue 24): jobs/backup.ts runs `ctx.services.backup.run()`. The copy and
 * its verification run in a thread (storage/backup-thread.ts), never on the API's event loop.
 */
export const installBackup: InstallModule = (ctx) => {
  const metrics = registerBackupMetrics(ctx);
  ctx.services.backup = {
    async run() {
      const { config } = ctx;
      const started = performance.now();
      const manifest = await backupInThread({ dataDir: config.DATA_DIR, root: config.BACKUP_DIR, busyTimeoutMs: config.DB_BUSY_TIMEOUT_MS, now: ctx.now() });
      const pruned = pruneBackups(config.BACKUP_DIR, ctx.now(), config.BACKUP_KEEP_RECENT, config.BACKUP_KEEP_DAILY);
      const durationMs = Math.round(performance.now() - started);
      metrics.duration.set(durationMs / 1000);
      const files: BackupResult["files"] = {};
      for (const [name, file] of Object.entries(manifest.files)) {
        files[name] = { bytes: file.bytes, snapshotMs: file.snapshotMs, verifyMs: file.verifyMs, ...(file.sameAs ? { sameAs: file.sameAs } : {}) };
        metrics.snapshot.set({ file: name }, file.snapshotMs / 1000);
      }
      const result = { stamp: manifest.stamp, dir: manifest.dir, durationMs, files, pruned };
      ctx.log.info(result, "backup taken and verified");
      return result;
    },
  };
};
