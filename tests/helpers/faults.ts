import type { AppContext } from "../../runtime/context.ts";
import type { Commands } from "../../services/commands.ts";
import type { Writer } from "../../storage/writer.ts";

/** What the writer thread hands back for a write on a full disk (storage/wire-errors.ts keeps the code). */
export function diskFullError(): Error {
  return Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL", rawCode: 13 });
}

export interface InjectedFault {
  /** Commands refused so far, by name. */
  failures(name: string): number;
  /** The disk has room again: every command goes to the real writer. */
  heal(): void;
}

/**
 * A full disk for the named commands: they fail as the writer fails them (SQLITE_FULL, nothing
 * committed) until `heal()`. Everything else reaches the real writer. Modules read `ctx.queue` at
 * each call, so swapping it takes effect at once.
 */
export function failCommands(ctx: AppContext, names: readonly (keyof Commands)[]): InjectedFault {
  const real = ctx.queue;
  const counts = new Map<string, number>();
  let failing = true;
  const faulty: Writer<Commands> = {
    run(name, ...args) {
      if (failing && (names as readonly string[]).includes(name)) {
        counts.set(name, (counts.get(name) ?? 0) + 1);
        return Promise.reject(diskFullError());
      }
      return real.run(name, ...args);
    },
    barrier: () => real.barrier(),
    get depth() {
      return real.depth;
    },
    close: () => real.close(),
  };
  ctx.queue = faulty;
  return {
    failures: (name) => counts.get(name) ?? 0,
    heal() {
      failing = false;
      ctx.queue = real;
    },
  };
}

/** Polls `condition` every 50 ms until it holds; throws with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
