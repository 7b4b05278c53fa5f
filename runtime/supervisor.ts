import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { moduleUrl, nodeArgsFor } from "../storage/workers.ts";

/**
 * `npm run supervise` (issue 24 part 1): a failover pair of cores on one machine without systemd
 * (development, the tests, the deploy drill) — what `systemd/tap-core.socket` + `tap-core@.service`
 * do in production. It binds HOST:PORT once and hands the socket to each core as fd 3 with
 * LISTEN_FDS=1 (LEASE=on); the core holding the lease accepts on it, the other waits as a warm
 * standby. A core that exits is started again (as the new standby), so `kill -TERM <holder pid>` is
 * a handover and `kill -9` a crash the standby covers. Optionally it runs edges too (ROLE=edge), one
 * per port, restarted the same way. Pid and state files in SUPERVISOR_RUN_DIR let scripts/deploy.sh
 * drive a rolling restart with signals. SIGTERM/SIGINT stop everything.
 *
 * The socket is bound but never listened on here: listen() puts a socket in the kernel's accept
 * mode, and Node would then accept connections in this process too (it cannot hold a listening
 * socket without accepting). The first core to hold the lease calls listen() on its copy; from then
 * on the socket stays listening for as long as any process holds it open (this one does), so while
 * no core accepts, connections wait in its backlog instead of being refused.
 */
const settings = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default("127.0.0.1"),
    DATA_DIR: z.string().min(1).default("./data"),
    /** Pid and state files: core-<name>.pid, core-<name>.state, edge-<port>.pid. */
    SUPERVISOR_RUN_DIR: z.string().min(1).optional(),
    /** The names of the cores (two: the holder and the standby). */
    SUPERVISOR_CORES: z
      .string()
      .default("a,b")
      .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^[\w-]+$/)).min(1).max(4)),
    /** Edge ports (ROLE=edge), comma list; empty: none. */
    SUPERVISOR_EDGE_PORTS: z
      .string()
      .default("")
      .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean).map(Number))
      .pipe(z.array(z.number().int().min(1).max(65535)).max(16)),
    /** Waits this long before starting an exited process again, doubling (to 5 s) while it keeps dying within a second. */
    SUPERVISOR_RESTART_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(100),
  })
  .transform((s) => ({ ...s, SUPERVISOR_RUN_DIR: s.SUPERVISOR_RUN_DIR ?? join(s.DATA_DIR, "run") }));

type Settings = z.output<typeof settings>;

/** A handle bound to HOST:PORT, not listening (see above), and its fd. */
function bindSocket(host: string, port: number): { fd: number; port: number } {
  const { TCP, constants } = (process as unknown as { binding(name: string): { TCP: new (type: number) => TcpHandle; constants: { SERVER: number } } }).binding("tcp_wrap");
  const handle = new TCP(constants.SERVER);
  const error = host.includes(":") ? handle.bind6(host, port, 0) : handle.bind(host, port);
  if (error !== 0) throw new Error(`cannot bind ${host}:${port} (errno ${error})`);
  const address: { port?: number } = {};
  handle.getsockname(address);
  return { fd: handle.fd, port: address.port ?? port };
}
interface TcpHandle {
  bind(host: string, port: number): number;
  bind6(host: string, port: number, flags: number): number;
  getsockname(out: object): number;
  fd: number;
}

interface Slot {
  name: string;
  file: string;
  env: Record<string, string>;
  stdio: (number | "ignore" | "inherit")[];
  child?: ChildProcess;
  startedAt: number;
  delayMs: number;
}

async function main() {
  const parsed = settings.safeParse(process.env);
  if (!parsed.success) {
    process.stderr.write(`invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}\n`);
    process.exit(78);
  }
  const s: Settings = parsed.data;
  mkdirSync(s.SUPERVISOR_RUN_DIR, { recursive: true });
  const socket = bindSocket(s.HOST, s.PORT);
  const log = (msg: string, fields: Record<string, unknown> = {}) => process.stdout.write(`${JSON.stringify({ time: Date.now(), component: "supervisor", ...fields, msg })}\n`);
  log("bound", { host: s.HOST, port: socket.port, fd: socket.fd });
  writeFileSync(join(s.SUPERVISOR_RUN_DIR, "supervisor.port"), `${socket.port}\n`);
  writeFileSync(join(s.SUPERVISOR_RUN_DIR, "supervisor.pid"), `${process.pid}\n`);

  const mainFile = fileURLToPath(moduleUrl("./main.ts", import.meta.url));
  const slots: Slot[] = [
    ...s.SUPERVISOR_CORES.map((name) => ({
      name: `core-${name}`,
      file: join(s.SUPERVISOR_RUN_DIR, `core-${name}`),
      env: { LEASE: "on", LISTEN_FDS: "1", CORE_STATE_FILE: join(s.SUPERVISOR_RUN_DIR, `core-${name}.state`) },
      // fd 3 in the child is the shared socket (LISTEN_FDS=1, as systemd's socket activation).
      stdio: ["ignore", "inherit", "inherit", socket.fd] as Slot["stdio"],
      startedAt: 0,
      delayMs: s.SUPERVISOR_RESTART_DELAY_MS,
    })),
    ...s.SUPERVISOR_EDGE_PORTS.map((port) => ({
      name: `edge-${port}`,
      file: join(s.SUPERVISOR_RUN_DIR, `edge-${port}`),
      env: { ROLE: "edge", PORT: String(port), LEASE: "off", JOBS_ENABLED: "false" },
      stdio: ["ignore", "inherit", "inherit"] as Slot["stdio"],
      startedAt: 0,
      delayMs: s.SUPERVISOR_RESTART_DELAY_MS,
    })),
  ];

  let stopping = false;
  const start = (slot: Slot) => {
    if (stopping) return;
    const child = spawn(process.execPath, nodeArgsFor(mainFile), { env: { ...process.env, ...slot.env }, stdio: slot.stdio });
    slot.child = child;
    slot.startedAt = Date.now();
    if (child.pid !== undefined) writeFileSync(`${slot.file}.pid`, `${child.pid}\n`);
    log("started", { process: slot.name, pid: child.pid });
    child.once("exit", (code, signal) => {
      log("exited", { process: slot.name, pid: child.pid, code, signal });
      if (stopping) return;
      // Dying again within a second of its start: back off (a bad release must not spin the CPU).
      slot.delayMs = Date.now() - slot.startedAt < 1000 ? Math.min(5000, Math.max(100, slot.delayMs * 2)) : s.SUPERVISOR_RESTART_DELAY_MS;
      setTimeout(() => start(slot), slot.delayMs);
    });
  };
  for (const slot of slots) start(slot);

  const stopAll = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("stopping", { signal });
    const running = slots.map((slot) => slot.child).filter((c): c is ChildProcess => Boolean(c) && c!.exitCode === null && c!.signalCode === null);
    let left = running.length;
    const done = () => {
      for (const slot of slots) rmSync(`${slot.file}.pid`, { force: true });
      process.exit(0);
    };
    if (left === 0) done();
    for (const child of running) {
      child.once("exit", () => --left === 0 && done());
      child.kill("SIGTERM");
    }
    // A core drains within a few seconds (runtime/server.ts forces its connections closed after 5 s).
    setTimeout(() => {
      for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }, 15_000).unref();
  };
  process.on("SIGTERM", () => stopAll("SIGTERM"));
  process.on("SIGINT", () => stopAll("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(`supervisor failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
