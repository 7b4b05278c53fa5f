import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const nginxDir = join(import.meta.dirname, "..", "..", "nginx");

export interface NginxRenderOptions {
  /** Folder for the rendered config, certificates, logs, temp files and pid. */
  prefixDir: string;
  /** The core (or the single process): tap_app. */
  appPort: number;
  /** The edges' ports (tap_edges); absent: the app serves the audience itself, as shipped. */
  edgePorts?: number[];
  /** Plain-HTTP server that includes the same locations as the TLS server (tests, benchmarks). */
  plainPort: number;
  tlsPort: number;
  redirectPort: number;
  /** Apply the per-IP limits to loopback too (to test them from this machine). */
  limitLoopback?: boolean;
  workerProcesses?: number;
  /** Connections per worker, each one descriptor (a proxied WebSocket takes two); default 16384. */
  workerConnections?: number;
  /** Replaces the config's proxy_read_timeout (tests of the 504 answer). */
  proxyReadTimeoutSec?: number;
}

/**
 * Renders the repository's nginx/ config for a run on this machine: the same file, with the
 * ports, certificate paths and include path replaced, inside a minimal main config.
 */
export function renderNginx(o: NginxRenderOptions): string {
  mkdirSync(join(o.prefixDir, "logs"), { recursive: true });
  mkdirSync(join(o.prefixDir, "tmp"), { recursive: true });
  const certs = selfSignedCert(o.prefixDir);
  const locations = join(o.prefixDir, "tap-locations.conf");
  let locationsText = readFileSync(join(nginxDir, "tap-locations.conf"), "utf8");
  if (o.proxyReadTimeoutSec !== undefined) {
    const replaced = locationsText.replace(/proxy_read_timeout\s+15s;/, `proxy_read_timeout ${o.proxyReadTimeoutSec}s;`);
    if (replaced === locationsText) throw new Error("renderNginx: proxy_read_timeout 15s not found in tap-locations.conf");
    locationsText = replaced;
  }
  writeFileSync(locations, locationsText);
  const shipped = readFileSync(join(nginxDir, "tap.conf"), "utf8");
  const edges = /(upstream tap_edges \{[^}]*?)server 127\.0\.0\.1:3000 max_fails=0;/;
  if (!edges.test(shipped)) throw new Error("renderNginx: the tap_edges upstream's server line was not found in tap.conf");
  const edgeServers = (o.edgePorts ?? [o.appPort]).map((port) => `server 127.0.0.1:${port} ${o.edgePorts ? "max_fails=1 fail_timeout=5s" : "max_fails=0"};`);
  let site = shipped
    .replace(edges, `$1${edgeServers.join("\n    ")}`)
    .replaceAll("server 127.0.0.1:3000", `server 127.0.0.1:${o.appPort}`)
    .replace(/listen 80;\n\s*listen \[::\]:80;/, `listen 127.0.0.1:${o.redirectPort};`)
    .replace(/listen 443 ssl http2;\n\s*listen \[::\]:443 ssl http2;/, `listen 127.0.0.1:${o.tlsPort} ssl http2;`)
    .replace("/etc/ssl/tap/fullchain.pem", certs.cert)
    .replace("/etc/ssl/tap/privkey.pem", certs.key)
    .replaceAll("/etc/nginx/snippets/tap-locations.conf", locations);
  if (o.limitLoopback) site = site.replace("127.0.0.1 0;", "127.0.0.1 1;");
  writeFileSync(join(o.prefixDir, "tap.conf"), site);
  const tmp = join(o.prefixDir, "tmp");
  const main = `
worker_processes ${o.workerProcesses ?? 1};
worker_rlimit_nofile ${(o.workerConnections ?? 16384) + 1024};
pid ${join(o.prefixDir, "nginx.pid")};
error_log ${join(o.prefixDir, "logs", "error.log")} warn;
daemon off;
events { worker_connections ${o.workerConnections ?? 16384}; }
http {
    access_log off;
    client_body_temp_path ${tmp}/body;
    proxy_temp_path ${tmp}/proxy;
    fastcgi_temp_path ${tmp}/fastcgi;
    uwsgi_temp_path ${tmp}/uwsgi;
    scgi_temp_path ${tmp}/scgi;
    include ${join(o.prefixDir, "tap.conf")};
    server {
        listen 127.0.0.1:${o.plainPort};
        include ${locations};
    }
}
`;
  const file = join(o.prefixDir, "nginx.conf");
  writeFileSync(file, main);
  return file;
}

function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const result = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
    { stdio: "pipe" },
  );
  if (result.status !== 0) throw new Error(`openssl failed: ${result.stderr}`);
  return { cert, key };
}

/** `nginx -t` on a rendered config: returns nginx's verdict text and whether it passed. */
export function testNginxConfig(configFile: string, prefixDir: string): { ok: boolean; output: string } {
  const result = spawnSync("nginx", ["-t", "-p", prefixDir, "-c", configFile], { encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

export interface RunningNginx {
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startNginx(configFile: string, prefixDir: string, waitPort: number): Promise<RunningNginx> {
  const child = spawn("nginx", ["-p", prefixDir, "-c", configFile], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const { connect } = await import("node:net");
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(waitPort, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${waitPort}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGQUIT");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      }),
  };
}
