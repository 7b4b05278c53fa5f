import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginx, startNginx, testNginxConfig, type RunningNginx } from "../../scripts/lib/nginx.ts";
import { startChildServer, type ChildServer } from "./child.ts";
import { freePort, startRedis, type RedisInstance } from "./services.ts";
import { startTestServer, type TestServer } from "./server.ts";
import type { StartOptions } from "../../runtime/server.ts";

/**
 * SPEC §11 on one machine: a real Redis, the core (ROLE=core, in this process, so a test can feed
 * its prices and read its database), edges (ROLE=edge) in processes of their own, and the
 * repository's nginx in front (tap_app → the core, tap_edges → the edges), all on free loopback ports.
 * `stop()` ends every one of them, also after a failure half-way through starting.
 */
export interface EdgeStack {
  redis: RedisInstance;
  core: TestServer;
  edges: ChildServer[];
  nginx: RunningNginx;
  /** `http://127.0.0.1:<port>` of nginx's plain server block (the same locations as TLS). */
  base: string;
  /** Kills edge `i` with SIGKILL (no goodbye to its sockets) and waits until it is gone. */
  killEdge(i: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startEdgeStack(overrides: Record<string, string | number | boolean> = {}, options: StartOptions & { edges?: number } = {}): Promise<EdgeStack> {
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const run of stops.splice(0).reverse()) await Promise.resolve(run()).catch(() => undefined);
  };
  try {
    const redis = await startRedis();
    stops.push(() => redis.stop());
    const shared = { REDIS_URL: redis.url, REDIS_PREFIX: `stack${process.pid}:`, ...overrides };
    const core = await startTestServer({ ...shared, ROLE: "core" }, options);
    stops.push(() => core.stop());
    const env = Object.fromEntries(Object.entries({ ...shared, ROLE: "edge", NODE_ENV: "test", JOBS_ENABLED: "false" }).map(([k, v]) => [k, String(v)]));
    const edges = await Promise.all(Array.from({ length: options.edges ?? 2 }, () => startChildServer(env)));
    for (const edge of edges) stops.push(() => stopChild(edge));
    const prefixDir = mkdtempSync(join(tmpdir(), "tap-edges-nginx-"));
    stops.push(() => rmSync(prefixDir, { recursive: true, force: true }));
    const plainPort = await freePort();
    const conf = renderNginx({
      prefixDir,
      appPort: core.port,
      edgePorts: edges.map((e) => Number(new URL(e.url).port)),
      plainPort,
      tlsPort: await freePort(),
      redirectPort: await freePort(),
    });
    const verdict = testNginxConfig(conf, prefixDir);
    if (!verdict.ok) throw new Error(`nginx -t: ${verdict.output}`);
    const nginx = await startNginx(conf, prefixDir, plainPort);
    stops.push(() => nginx.stop());
    return {
      redis,
      core,
      edges,
      nginx,
      base: `http://127.0.0.1:${plainPort}`,
      killEdge: async (i) => {
        const edge = edges[i]!;
        if (edge.child.exitCode === null && edge.child.signalCode === null) edge.child.kill("SIGKILL");
        await edge.exited;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** SIGTERM, and SIGKILL if it has not ended within a few seconds. */
async function stopChild(server: ChildServer): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill("SIGTERM");
  const timer = setTimeout(() => server.child.kill("SIGKILL"), 5000);
  await server.exited;
  clearTimeout(timer);
}
