import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { TestWsClient, wsUrl } from "./fakes/ws-client.ts";
import { until } from "./fakes/wait.ts";

/**
 * Fan-out at scale: 1 000 connections all receive a broadcast tick; a connection that stops
 * reading is cut once its send buffer passes WS_MAX_BUFFERED_BYTES, so it cannot make the server
 * hold an ever-growing backlog, while a reading connection keeps receiving everything.
 */
const CLIENTS = 1000;
const MAX_BUFFERED_BYTES = 256 * 1024;

describe("ws: fan-out and slow consumers", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ WS_MAX_BUFFERED_BYTES: MAX_BUFFERED_BYTES });
  });
  afterAll(async () => {
    await server.stop();
  });

  it(`delivers one broadcast tick to all ${CLIENTS} connected clients`, async () => {
    const clients: TestWsClient[] = [];
    // Connect in batches: a burst of 1 000 SYNs would overflow the listen backlog and cost retries.
    for (let i = 0; i < CLIENTS; i += 100) {
      const batch = Array.from({ length: 100 }, () => new TestWsClient(wsUrl(server.url)));
      await Promise.all(batch.map((c) => c.next((m) => m.type === "hello")));
      clients.push(...batch);
    }
    expect(server.ctx.services.realtime.clients).toBe(CLIENTS);
    const at = Date.now();
    server.ctx.services.price.ingest("manual", 9_499_999, at);
    const received = await Promise.all(clients.map((c) => c.next((m) => m.type === "price" && m.at === at)));
    expect(received).toHaveLength(CLIENTS);
    expect(received.every((m) => m.priceCents === 9_499_999)).toBe(true);
    await Promise.all(clients.map((c) => c.close()));
    await until("server forgot the clients", () => server.ctx.services.realtime.clients === 0);
  });

  it("cuts a client that never reads instead of buffering for it without bound; readers are unaffected", async () => {
    const reader = new TestWsClient(wsUrl(server.url));
    const stalled = new TestWsClient(wsUrl(server.url));
    await Promise.all([reader.next((m) => m.type === "hello"), stalled.next((m) => m.type === "hello")]);
    // Stop reading from the socket: the kernel buffers fill, then the server's send buffer grows.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    const frameBytes = 64 * 1024;
    const frame = Buffer.from(JSON.stringify({ type: "price", priceCents: 1, at: 1, pad: "x".repeat(frameBytes - 50) }));
    // The most a stalled peer can absorb before the server must buffer: both ends' kernel buffers.
    const kernelBytesMax = maxSocketBuffer("tcp_rmem") + maxSocketBuffer("tcp_wmem");
    const budgetBytes = kernelBytesMax + MAX_BUFFERED_BYTES + 2 * frame.length;
    let sentBytes = 0;
    let readerFrames = 0;
    reader.ws.on("message", () => readerFrames++);
    while (server.ctx.services.realtime.clients === 2 && sentBytes < 2 * budgetBytes) {
      server.ctx.services.realtime.broadcast(frame);
      sentBytes += frame.length;
      await new Promise((r) => setImmediate(r)); // let the reader read
    }
    expect(server.ctx.services.realtime.clients).toBe(1);
    expect(sentBytes).toBeLessThanOrEqual(budgetBytes);
    const metrics = await (await server.request("/metrics")).text();
    expect(metrics).toMatch(/^ws_clients_dropped_total\{reason="slow"\} 1$/m);

    await until("reader got every frame", () => readerFrames >= sentBytes / frame.length);
    expect(reader.ws.readyState).toBe(WebSocket.OPEN);
    await reader.close();
    stalled.ws.terminate();
  });
});

/** The largest buffer Linux may give one TCP socket (third field of tcp_rmem / tcp_wmem). */
function maxSocketBuffer(name: "tcp_rmem" | "tcp_wmem"): number {
  try {
    return Number(readFileSync(`/proc/sys/net/ipv4/${name}`, "utf8").trim().split(/\s+/)[2]);
  } catch {
    return 8 * 1024 * 1024;
  }
}
