import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginx, startNginx, testNginxConfig, type RunningNginx } from "../../scripts/lib/nginx.ts";
import { freePort, startRedis, type RedisInstance } from "./services.ts";

const root = join(import.meta.dirname, "..", "..");

/**
 * Issue 24 part 1 on one machine: runtime/supervisor.ts running a failover pair of cores (LEASE=on,
 * one shared socket as fd 3) on a temporary DATA_DIR, and the repository's nginx in front of the
 * shared socket, all on free loopback ports. `stop()` ends every process, also after a failure.
 */
export interface FailoverStack {
  dataDir: string;
  /** With edges: the Redis the core (ROLE=core) and the edges meet in. */
  redis?: RedisInstance;
  edgePorts: number[];
  runDir: string;
  /** nginx's plain server block. */
  base: string;
  /** The shared socket's port (tap_app). */
  corePort: number;
  nginx: RunningNginx;
  nginxPrefix: string;
  supervisor: ChildProcess;
  output(): string;
  /** "<state> <pid>" of core `name`. */
  core(name: string): { state: string; pid: number };
  /** The name of the core holding the lease, once one does and the other is a warm standby. */
  settled(timeoutMs?: number): Promise<{ holder: string; standby: string }>;
  stop(): Promise<void>;
}

export const CORES = ["a", "b"] as const;

/** `edges` > 0: the cores run as ROLE=core with a Redis of their own, and the supervisor runs that many edges. */
export async function startFailoverStack(env: Record<string, string> = {}, edges = 0): Promise<FailoverStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "tap-failover-"));
  const runDir = join(dataDir, "run");
  let out = "";
  const redis = edges > 0 ? await startRedis() : undefined;
  const edgePorts: number[] = [];
  for (let i = 0; i < edges; i++) edgePorts.push(await freePort());
  const scaled = redis ? { ROLE: "core", REDIS_URL: redis.url, REDIS_PREFIX: `failover${process.pid}:`, SUPERVISOR_EDGE_PORTS: edgePorts.join(",") } : {};
  const supervisor = spawn(process.execPath, ["--import", "tsx", join(root, "runtime", "supervisor.ts")], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: "test",
      DATA_DIR: dataDir,
      HOST: "127.0.0.1",
      PORT: "0",
      SESSION_STORE: "disk",
      JOBS_ENABLED: "false",
      LOG_LEVEL: "warn",
      SUPERVISOR_RUN_DIR: runDir,
      ...scaled,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  supervisor.stdout!.on("data", (d) => (out = (out + d).slice(-200_000)));
  supervisor.stderr!.on("data", (d) => (out = (out + d).slice(-200_000)));
  const exited = new Promise<void>((resolve) => supervisor.once("exit", () => resolve()));
  let nginx: RunningNginx | undefined;
  const nginxPrefix = mkdtempSync(join(tmpdir(), "tap-failover-nginx-"));

  const core = (name: string) => {
    try {
      const [state, pid] = readFileSync(join(runDir, `core-${name}.state`), "utf8").trim().split(" ");
      return { state: state ?? "none", pid: Number(pid) };
    } catch {
      return { state: "none", pid: 0 };
    }
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const settled = async (timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [a, b] = CORES.map((n) => core(n));
      if (a!.state === "holder" && b!.state === "standby" && alive(a!.pid) && alive(b!.pid)) return { holder: "a", standby: "b" };
      if (b!.state === "holder" && a!.state === "standby" && alive(a!.pid) && alive(b!.pid)) return { holder: "b", standby: "a" };
      if (supervisor.exitCode !== null) throw new Error(`the supervisor exited:\n${out.slice(-5000)}`);
      if (Date.now() > deadline) throw new Error(`the pair did not settle (a: ${JSON.stringify(a)}, b: ${JSON.stringify(b)}):\n${out.slice(-5000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    await nginx?.stop().catch(() => undefined);
    if (supervisor.exitCode === null && supervisor.signalCode === null) {
      supervisor.kill("SIGTERM");
      const timer = setTimeout(() => {
        // The supervisor did not end its cores in time: end them and it.
        for (const name of CORES) {
          const { pid } = core(name);
          if (pid && alive(pid)) process.kill(pid, "SIGKILL");
        }
        supervisor.kill("SIGKILL");
      }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    await redis?.stop();
    rmSync(nginxPrefix, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    const portFile = join(runDir, "supervisor.port");
    const deadline = Date.now() + 30_000;
    while (!existsSync(portFile)) {
      if (supervisor.exitCode !== null || Date.now() > deadline) throw new Error(`the supervisor did not bind:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const corePort = Number(readFileSync(portFile, "utf8").trim());
    await settled();
    for (const port of edgePorts) await waitForReady(port, () => out);
    const plainPort = await freePort();
    const conf = renderNginx({
      prefixDir: nginxPrefix,
      appPort: corePort,
      ...(edgePorts.length > 0 ? { edgePorts } : {}),
      plainPort,
      tlsPort: await freePort(),
      redirectPort: await freePort(),
    });
    const verdict = testNginxConfig(conf, nginxPrefix);
    if (!verdict.ok) throw new Error(`nginx -t: ${verdict.output}`);
    nginx = await startNginx(conf, nginxPrefix, plainPort);
    return {
      dataDir,
      ...(redis ? { redis } : {}),
      edgePorts,
      runDir,
      base: `http://127.0.0.1:${plainPort}`,
      corePort,
      nginx,
      nginxPrefix,
      supervisor,
      output: () => out,
      core,
      settled,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Until the edge on `port` answers /readyz 200 (it hears the core over Redis). */
async function waitForReady(port: number, output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`edge ${port} not ready:\n${output().slice(-5000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
