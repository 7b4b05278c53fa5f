import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");

export interface ChildServer {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
}

/** Node arguments of the source server under tsx (`npm run dev`); `node dist/runtime/main.js` is the build's. */
export const SOURCE_SERVER_ARGS = ["--import", "tsx", join(root, "runtime", "main.ts")];
export const BUILT_SERVER_ARGS = [join(root, "dist", "runtime", "main.js")];

/**
 * Runs `runtime/main.ts` in its own Node process (or, with `nodeArgs`, the build in dist/) and
 * resolves once it logs that it listens. Used for signal, crash, restart and build tests.
 */
export async function startChildServer(env: Record<string, string>, timeoutMs = 30_000, nodeArgs = SOURCE_SERVER_ARGS): Promise<ChildServer> {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: root,
    env: { ...process.env, PORT: "0", LOG_LEVEL: "info", JOBS_ENABLED: "false", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // never leave a half-started server behind
      reject(new Error(`server did not start:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"listening"/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  return { child, url, output: () => out, exited };
}

/** A request client for a child server, shaped like TestServer's (`json` body, bearer `token`). */
export const clientOf = (s: ChildServer) => ({
  request: (path: string, init: RequestInit & { json?: unknown; token?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.json !== undefined) headers.set("content-type", "application/json");
    if (init.token) headers.set("authorization", `Bearer ${init.token}`);
    return fetch(s.url + path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  },
});

/** Kills (-9) every process of the list still running and waits for each to end (a suite's afterAll). */
export async function killAll(processes: { child: ChildProcess; exited: Promise<unknown> }[]): Promise<void> {
  for (const p of processes) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill("SIGKILL");
      await p.exited;
    }
  }
}
