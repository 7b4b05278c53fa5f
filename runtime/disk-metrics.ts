import { existsSync, statfsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Gauge } from "prom-client";
import type { Metrics } from "./metrics.ts";

export interface Volume {
  /** The label: `data` (DATA_DIR) or `backups` (BACKUP_DIR). */
  volume: string;
  path: string;
}

/** The file system holding `path`: the path itself, or its nearest existing parent (a directory not created yet). */
function existingAncestor(path: string): string {
  let at = resolve(path);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  return at;
}

/** Space of a volume as statfs(2) reports it; `availableBytes` is what the service's own user may still write. */
export function diskSpace(path: string): { availableBytes: number; sizeBytes: number } {
  const s = statfsSync(existingAncestor(path));
  return { availableBytes: s.bavail * s.bsize, sizeBytes: s.blocks * s.bsize };
}

/**
 * Free space of the disks the service writes (SQLite answers SQLITE_FULL, so bets 503, when the data
 * disk fills): `disk_available_bytes{volume}` and `disk_size_bytes{volume}`, read at scrape time.
 */
export function registerDiskMetrics(metrics: Metrics, volumes: Volume[]): void {
  const read = () =>
    volumes.flatMap(({ volume, path }) => {
      try {
        return [{ volume, ...diskSpace(path) }];
      } catch {
        return []; // unreadable: no sample, so an alert on the ratio goes quiet rather than wrong
      }
    });
  const gauges: [name: string, help: string, pick: (space: ReturnType<typeof diskSpace>) => number][] = [
    ["disk_available_bytes", "Bytes the service may still write on the volume (statfs f_bavail): data = DATA_DIR, backups = BACKUP_DIR", (v) => v.availableBytes],
    ["disk_size_bytes", "Size of the volume (statfs f_blocks): data = DATA_DIR, backups = BACKUP_DIR", (v) => v.sizeBytes],
  ];
  for (const [name, help, pick] of gauges) {
    new Gauge({
      name,
      help,
      labelNames: ["volume"] as const,
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const v of read()) this.set({ volume: v.volume }, pick(v));
      },
    });
  }
}
