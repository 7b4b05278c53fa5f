/**
 * The watchers of `npm run bench:audience`, in a process of their own (forked by
 * scripts/bench-audience.ts): N anonymous WebSocket connections that only read, as the page's socket
 * does without a player. A small client of its own (RFC 6455 framing on a plain TCP socket, no
 * library), so that 20 000 sockets × 10 frames/s cost this process as little CPU as possible: the
 * machine's two cores are shared with the server under test.
 *
 * It answers the server's pings as a browser does (crossws pings every socket every 30 s and cuts
 * those that stay silent). Each connection counts the bytes it receives after the handshake (WebSocket headers included) and
 * its price frames; the lag of a frame is its arrival time minus the tick's `at` (one host, one
 * clock). Connections are spread over many loopback source addresses (127.2.0.1 …), at most
 * SOURCES_PER_ADDRESS each.
 *
 *   fork(audience-watchers.ts, [wsUrl, count, firstAddressIndex])
 * Messages: parent → {go: {warmupMs, durationMs}}; child → {ready: {connected, failed}} and
 * {report: WatcherCounts} (scripts/bench-audience.ts adds the processes' reports up: mergeWatchers).
 */
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { nextGo, report, runAsChild } from "./bench-child.ts";

export interface WatchersReport {
  connected: number;
  /** Open at the end of the window. */
  open: number;
  failed: number;
  durationSec: number;
  /** Price frames per watcher per second: lowest and mean over the watchers. */
  ticksPerSecMin: number;
  ticksPerSecMean: number;
  /** Bytes received per watcher per second (mean), and the largest price frame seen (payload bytes). */
  bytesPerSecMean: number;
  priceFrameBytesMax: number;
  /** Distinct ticks any watcher saw in the window, and gaps in seq seen by any watcher. */
  distinctTicks: number;
  seqGaps: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** CPU of the watcher processes together, in % of one core. */
  cpuPercent: number;
}

/** What one watcher process measured, in a form that adds up over processes. */
export interface WatcherCounts {
  connected: number;
  open: number;
  failed: number;
  durationSec: number;
  ratesMin: number;
  ratesSum: number;
  bytes: number;
  frameBytesMax: number;
  ticks: number[];
  seqGaps: number;
  /** Lag histogram, 1 ms buckets: [ms, count] for the buckets that are not empty. */
  lag: [number, number][];
  cpuPercent: number;
}

/** One report over several watcher processes (each holds at most WATCHERS_PER_PROCESS sockets). */
export function mergeWatchers(parts: WatcherCounts[]): WatchersReport {
  const connected = parts.reduce((a, p) => a + p.connected, 0);
  const durationSec = Math.max(...parts.map((p) => p.durationSec));
  const histogram = new Map<number, number>();
  for (const p of parts) for (const [ms, n] of p.lag) histogram.set(ms, (histogram.get(ms) ?? 0) + n);
  const buckets = [...histogram].sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((a, [, n]) => a + n, 0);
  const quantile = (q: number) => {
    let left = Math.ceil(q * total);
    for (const [ms, n] of buckets) if ((left -= n) <= 0) return ms;
    return buckets.at(-1)?.[0] ?? NaN;
  };
  return {
    connected,
    open: parts.reduce((a, p) => a + p.open, 0),
    failed: parts.reduce((a, p) => a + p.failed, 0),
    durationSec,
    ticksPerSecMin: connected ? Math.min(...parts.filter((p) => p.connected > 0).map((p) => p.ratesMin)) : 0,
    ticksPerSecMean: connected ? parts.reduce((a, p) => a + p.ratesSum, 0) / connected : 0,
    bytesPerSecMean: connected ? parts.reduce((a, p) => a + p.bytes / p.durationSec, 0) / connected : 0,
    priceFrameBytesMax: Math.max(...parts.map((p) => p.frameBytesMax)),
    distinctTicks: new Set(parts.flatMap((p) => p.ticks)).size,
    seqGaps: parts.reduce((a, p) => a + p.seqGaps, 0),
    lagP50Ms: quantile(0.5),
    lagP99Ms: quantile(0.99),
    lagMaxMs: quantile(1),
    cpuPercent: parts.reduce((a, p) => a + p.cpuPercent, 0),
  };
}

/** Sockets per watcher process: each process may hold 20 000 descriptors here, and keeps room. */
export const WATCHERS_PER_PROCESS = 8000;
/**
 * Connections per loopback source address: under nginx's 200 connections per address (tap_conn), as
 * if a few players shared each address, and far under the ~28 000 source ports of one address.
 */
export const SOURCES_PER_ADDRESS = 150;

/** The k-th source address: 127.2.0.1, 127.2.0.2, … (all of 127/8 is loopback; 127.0.0.1 is nginx's exempt address). */
export function sourceAddress(k: number): string {
  return `127.2.${Math.floor(k / 250)}.${1 + (k % 250)}`;
}
/**
 * Connections opened at once: more overflows the server's accept queue (Node's and nginx's default
 * backlog is 511) while it is busy writing ticks, and each dropped SYN waits 1, 3, 7 … s to be retried.
 */
const CONNECT_BATCH = 100;
/** A connection that has not completed its upgrade by then counts as failed. */
const CONNECT_TIMEOUT_MS = 60_000;
const LAG_BUCKETS = 60_000; // 1 ms buckets up to a minute

interface Watcher {
  socket: Socket;
  open: boolean;
  bytes: number;
  frames: number;
  lastSeq: number;
  gaps: number;
  pending: Buffer | undefined;
}

const lagCounts = new Uint32Array(LAG_BUCKETS + 1);
const seen = new Set<number>();
let measuring = false;
let frameBytesMax = 0;

/** One watcher: the upgrade by hand, then unmasked server frames parsed as they come. */
function openWatcher(url: URL, localAddress: string): Promise<Watcher | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), localAddress });
    const watcher: Watcher = { socket, open: false, bytes: 0, frames: 0, lastSeq: -1, gaps: 0, pending: undefined };
    let head = "";
    const fail = () => {
      socket.destroy();
      resolve(undefined);
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, fail);
    socket.once("error", fail);
    // Closed by the other end before the upgrade (no error, and an idle timeout never fires on a
    // closed socket): without this the connection stayed pending and the whole batch with it, and the
    // process never reported ready (a likely cause of the 20 000-watcher run through nginx that hung).
    socket.once("close", fail);
    socket.once("connect", () => {
      socket.write(
        `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const onHead = (data: Buffer) => {
      head += data.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      if (!head.startsWith("HTTP/1.1 101")) return fail();
      socket.off("data", onHead);
      socket.setTimeout(0);
      socket.removeAllListeners("error");
      socket.off("close", fail);
      socket.on("error", () => (watcher.open = false));
      socket.on("close", () => (watcher.open = false));
      watcher.open = true;
      socket.on("data", (chunk: Buffer) => onData(watcher, chunk));
      const rest = Buffer.from(head.slice(end + 4), "latin1");
      if (rest.length > 0) onData(watcher, rest);
      resolve(watcher);
    };
    socket.on("data", onHead);
  });
}

function onData(w: Watcher, chunk: Buffer): void {
  const now = Date.now();
  if (measuring) w.bytes += chunk.length;
  const buf = w.pending ? Buffer.concat([w.pending, chunk]) : chunk;
  let at = 0;
  while (buf.length - at >= 2) {
    const opcode = buf[at]! & 0x0f;
    let length = buf[at + 1]! & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (buf.length - at < 4) break;
      length = buf.readUInt16BE(at + 2);
      offset = at + 4;
    } else if (length === 127) {
      if (buf.length - at < 10) break;
      length = Number(buf.readBigUInt64BE(at + 2));
      offset = at + 10;
    }
    if (buf.length < offset + length) break;
    if (opcode === 1 && measuring) onText(w, buf, offset, offset + length, now);
    else if (opcode === 9) pong(w, buf.subarray(offset, offset + length));
    at = offset + length;
  }
  w.pending = at < buf.length ? buf.subarray(at) : undefined;
  if (w.pending && w.pending.length > 4 * 1024 * 1024) w.socket.destroy();
}

/** A pong with the ping's payload (≤ 125 bytes); client frames are masked (RFC 6455 §5.3), here with a zero mask. */
function pong(w: Watcher, payload: Buffer): void {
  w.socket.write(Buffer.concat([Buffer.from([0x8a, 0x80 | payload.length, 0, 0, 0, 0]), payload]));
}

const PRICE = Buffer.from('{"type":"price"');
const SEQ = Buffer.from('"seq":');
const AT = Buffer.from('"at":');

/** A price frame: count it and take `seq` and `at` without parsing the JSON. */
function onText(w: Watcher, buf: Buffer, start: number, end: number, now: number): void {
  if (buf.compare(PRICE, 0, PRICE.length, start, start + PRICE.length) !== 0) return;
  w.frames++;
  if (end - start > frameBytesMax) frameBytesMax = end - start;
  const seq = numberAfter(buf, SEQ, start, end);
  const at = numberAfter(buf, AT, start, end);
  if (w.lastSeq >= 0 && seq > w.lastSeq + 1) w.gaps++;
  w.lastSeq = seq;
  seen.add(at);
  lagCounts[Math.min(LAG_BUCKETS, Math.max(0, now - at))]!++;
}

function numberAfter(buf: Buffer, key: Buffer, start: number, end: number): number {
  let i = buf.indexOf(key, start);
  if (i < 0 || i >= end) return NaN;
  i += key.length;
  let value = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
  }
  return value;
}

async function main(): Promise<void> {
  const url = new URL(process.argv[2]!);
  const count = Number(process.argv[3]);
  /** This process's first source address (sourceAddress): processes use addresses of their own. */
  const firstAddress = Number(process.argv[4] ?? 0);
  const watchers: Watcher[] = [];
  let failed = 0;
  for (let i = 0; i < count; i += CONNECT_BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(CONNECT_BATCH, count - i) }, (_, j) => openWatcher(url, sourceAddress(firstAddress + Math.floor((i + j) / SOURCES_PER_ADDRESS)))),
    );
    for (const w of batch) if (w) watchers.push(w);
    failed += batch.filter((w) => !w).length;
  }
  process.send!({ ready: { connected: watchers.length, failed } });
  const { warmupMs, durationMs } = await nextGo();
  await new Promise((r) => setTimeout(r, warmupMs));
  const cpuStart = process.cpuUsage();
  const startedAt = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, durationMs));
  measuring = false;
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const rates = watchers.map((w) => w.frames / seconds);
  const lag: [number, number][] = [];
  lagCounts.forEach((n, ms) => n > 0 && lag.push([ms, n]));
  const counts: WatcherCounts = {
    connected: watchers.length,
    open: watchers.filter((w) => w.open).length,
    failed,
    durationSec: seconds,
    ratesMin: rates.length ? Math.min(...rates) : 0,
    ratesSum: rates.reduce((a, b) => a + b, 0),
    bytes: watchers.reduce((a, w) => a + w.bytes, 0),
    frameBytesMax,
    ticks: [...seen],
    seqGaps: watchers.reduce((a, w) => a + w.gaps, 0),
    lag,
    cpuPercent: (100 * (cpu.user + cpu.system)) / 1000 / (seconds * 1000),
  };
  for (const w of watchers) w.socket.destroy();
  report(counts);
}

runAsChild(main);
