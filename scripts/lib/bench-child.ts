/** The side of a forked bench client (scripts/lib/audience-*.ts) that talks to its parent. */

export interface Go {
  warmupMs: number;
  durationMs: number;
}

/** Runs `main` when this module was forked with an IPC channel; the process ends with its parent, and on a failure. */
export function runAsChild(main: () => Promise<void>): void {
  if (!process.send) return;
  process.on("disconnect", () => process.exit(0));
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/** The parent's `{go}`: start now, measure after `warmupMs` for `durationMs`. */
export function nextGo(): Promise<Go> {
  return new Promise((resolve) => {
    const onMessage = (message: { go?: Go }) => {
      if (!message.go) return;
      process.off("message", onMessage);
      resolve(message.go);
    };
    process.on("message", onMessage);
  });
}

/** Sends the report and exits once it has left. */
export function report(value: unknown): void {
  process.send!({ report: value }, () => process.exit(0));
}
