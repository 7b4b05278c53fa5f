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

/** A redis-server of the test's own, with its process at hand: stop it (SIGSTOP), kill it, start it again. */
export interface ControlledRedis {
  url: string;
  port: number;
  /** SIGSTOP: the process hangs with its sockets open (the worst case for a client). */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: no persistence). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startControlledRedis(): Promise<ControlledRedis> {
  const { spawn } = await import("node:child_process");
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { freePort, waitForPort } = await import("./services.ts");
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tap-redis-fault-"));
  let child: import("node:child_process").ChildProcess | undefined;
  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const redis: ControlledRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause: () => void child?.kill("SIGSTOP"),
    resume: () => void child?.kill("SIGCONT"),
    async kill() {
      if (!alive()) return;
      const exited = new Promise<void>((resolve) => child!.once("exit", () => resolve()));
      child!.kill("SIGKILL");
      await exited;
    },
    async start() {
      child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
      await waitForPort(port, 10_000);
    },
    async stop() {
      if (alive()) child!.kill("SIGCONT");
      await redis.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await redis.start();
  return redis;
}

/** Runs a request and measures it: status, body, Retry-After and how long it took. */
export async function timed(request: () => Promise<Response>): Promise<{ status: number; body: any; retryAfter: string | null; ms: number }> {
  const started = performance.now();
  const res = await request();
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (204, or text)
  }
  return { status: res.status, body, retryAfter: res.headers.get("retry-after"), ms: performance.now() - started };
}
