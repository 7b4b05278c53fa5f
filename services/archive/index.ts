import type { InstallModule } from "../types.ts";
import { runArchive, type ArchiveOptions, type ArchiveReport } from "./archiver.ts";

export type { ArchiveReport, ArchiveOptions } from "./archiver.ts";

export interface ArchiveService {
  /** Archives every closed week still in current (see archiver.ts); one run at a time per process. */
  run(options?: ArchiveOptions): Promise<ArchiveReport>;
}

declare module "../types.ts" {
  interface Services {
    archive: ArchiveService;
  }
}

export const installArchive: InstallModule = (ctx) => {
  let running: Promise<ArchiveReport> | undefined;
  ctx.services.archive = {
    run(options) {
      // Two overlapping runs would be safe (idempotent) but pointless: the second waits for the first.
      running ??= runArchive(ctx, options).finally(() => (running = undefined));
      return running;
    },
  };
};
