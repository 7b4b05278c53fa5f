/**
 * The grid flood of issue 13: `clients` loops, each from its own source address (127.0.0.2, .3, …:
 * Linux routes all of 127.0.0.0/8 to loopback), each sending `GET <path>` back to back on one
 * keep-alive connection for `seconds`, as an unauthenticated client hammering the biggest grid would.
 * Prints, as one JSON line: answers by status, bytes received, requests/s.
 *
 *   npx tsx scripts/bench-flood-client.ts --url http://127.0.0.1:8080 [--clients 4] [--seconds 10]
 *     [--path "/api/grid?cols=60&rows=61"] [--forwarded]   (--forwarded: send X-Forwarded-For 198.51.100.N
 *     from 127.0.0.1 instead, as a trusted proxy would: for a flood straight at the app)
 */
import { Agent, request } from "node:http";
import { flag, option } from "./lib/args.ts";

const url = new URL(option("url", "http://127.0.0.1:3000"));
const clients = Math.min(50, Number(option("clients", "4")));
const seconds = Math.min(120, Number(option("seconds", "10")));
const path = option("path", "/api/grid?cols=60&rows=61");
const forwarded = flag("forwarded");

const statuses: Record<string, number> = {};
let bytes = 0;
let requests = 0;
let deadline = performance.now() + seconds * 1000;
// The caller stops the flood when its measurement ends; the figures are printed all the same.
process.once("SIGTERM", () => (deadline = 0));

function once(agent: Agent, client: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        agent,
        localAddress: forwarded ? undefined : `127.0.0.${2 + client}`,
        headers: forwarded ? { "x-forwarded-for": `198.51.100.${1 + client}` } : {},
      },
      (res) => {
        res.on("data", (chunk: Buffer) => (bytes += chunk.length));
        res.on("end", () => {
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          resolve();
        });
      },
    );
    req.on("error", () => {
      statuses.error = (statuses.error ?? 0) + 1;
      resolve();
    });
    req.end();
  });
}

async function loop(client: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  while (performance.now() < deadline) {
    await once(agent, client);
    requests++;
  }
  agent.destroy();
}

const started = performance.now();
await Promise.all(Array.from({ length: clients }, (_, i) => loop(i)));
const elapsedSec = (performance.now() - started) / 1000;
console.log(JSON.stringify({ clients, path, seconds: Math.round(elapsedSec * 10) / 10, requests, perSec: Math.round(requests / elapsedSec), statuses, megabytes: Math.round(bytes / 1e5) / 10 }));
