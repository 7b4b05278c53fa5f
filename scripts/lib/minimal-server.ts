/**
 * The reference of `npm run bench:audience`: the least a server can do for the same load, measured
 * in the same run. `POST /api/bets` does the same durable work per bet as the app's placement — a
 * conditional balance update, the bet row and two ledger rows, in a WAL database with
 * synchronous=FULL, many bets per transaction (group commit) on a writer thread — and answers 201
 * after the commit; nothing else (no auth, no pricing, no limits). `/ws` (the `ws` library, public
 * API) gets a 200-byte price frame ten times a second, sent to each socket with `ws.send`.
 *
 *   node --import tsx scripts/lib/minimal-server.ts <dataDir>    → prints {"url": …} when listening
 */
import { createServer } from "node:http";
import { join } from "node:path";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type WebSocket } from "ws";
import { openDatabase } from "../../storage/db.ts";
import { spawnWorker } from "../../storage/workers.ts";

const TICK_MS = 100;
const PRICE_FRAME_BYTES = 200;
const ACCOUNTS = 1000;
const BODY_BYTES_MAX = 16_384;

interface Placement {
  id: number;
  account: number;
  stakeMicroUsd: number;
}

if (!isMainThread) runWriter((workerData as { data: { path: string } }).data);
else if (process.argv[1] === fileURLToPath(import.meta.url)) await runServer(process.argv[2]!);

/** The writer thread: one transaction per batch of placements, answered with the ids that committed. */
function runWriter({ path }: { path: string }): void {
  const db = openDatabase(path, { busyTimeoutMs: 5000, synchronous: "FULL" });
  db.exec(`
    CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS bets (id INTEGER PRIMARY KEY, account INTEGER NOT NULL, stake INTEGER NOT NULL, placed_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY AUTOINCREMENT, account INTEGER NOT NULL, bet INTEGER NOT NULL, amount INTEGER NOT NULL);
  `);
  const seed = db.prepare("INSERT OR IGNORE INTO accounts (id, balance) VALUES (?, ?)");
  for (let id = 0; id <= ACCOUNTS; id++) seed.run(id, 1e15);
  const debit = db.prepare("UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance >= ?");
  const credit = db.prepare("UPDATE accounts SET balance = balance + ? WHERE id = 0");
  const bet = db.prepare("INSERT INTO bets (id, account, stake, placed_at) VALUES (?, ?, ?, ?)");
  const entry = db.prepare("INSERT INTO ledger (account, bet, amount) VALUES (?, ?, ?)");
  parentPort!.postMessage({ t: "ready" });
  parentPort!.on("message", (batch: Placement[]) => {
    const done: number[] = [];
    if (!Array.isArray(batch)) return;
    db.exec("BEGIN IMMEDIATE");
    const now = Date.now();
    for (const p of batch) {
      if (debit.run(p.stakeMicroUsd, p.account, p.stakeMicroUsd).changes !== 1) continue;
      credit.run(p.stakeMicroUsd);
      bet.run(p.id, p.account, p.stakeMicroUsd, now);
      entry.run(p.account, p.id, -p.stakeMicroUsd);
      entry.run(0, p.id, p.stakeMicroUsd);
      done.push(p.id);
    }
    db.exec("COMMIT");
    parentPort!.postMessage(done);
  });
}

async function runServer(dataDir: string): Promise<void> {
  const { worker: writer } = await spawnWorker(new URL(import.meta.url), { path: join(dataDir, "minimal.db") });
  const waiting = new Map<number, (ok: boolean) => void>();
  let queued: Placement[] = [];
  let writing = false;
  let nextId = 1;
  const flush = () => {
    if (writing || queued.length === 0) return;
    writing = true;
    const batch = queued;
    queued = [];
    writer.postMessage(batch);
    writer.once("message", (done: number[]) => {
      const ok = new Set(done);
      for (const p of batch) waiting.get(p.id)?.(ok.has(p.id));
      for (const p of batch) waiting.delete(p.id);
      writing = false;
      flush(); // group commit: what queued meanwhile goes next
    });
  };
  const place = (account: number, stakeMicroUsd: number) =>
    new Promise<{ id: number; ok: boolean }>((resolve) => {
      const id = nextId++;
      queued.push({ id, account, stakeMicroUsd });
      waiting.set(id, (ok) => resolve({ id, ok }));
      flush();
    });

  const server = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/api/bets") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= BODY_BYTES_MAX) chunks.push(c);
    });
    req.on("end", () => {
      let body: { stakeMicroUsd?: unknown; account?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString()) as typeof body;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const stake = typeof body.stakeMicroUsd === "number" ? body.stakeMicroUsd : 0;
      const account = 1 + (Number(body.account) % ACCOUNTS || 0);
      void place(account, stake).then(({ id, ok }) => {
        res.writeHead(ok ? 201 : 402, { "content-type": "application/json" }).end(JSON.stringify(ok ? { bet: { id, stakeMicroUsd: stake } } : { error: { code: "insufficient_balance" } }));
      });
    });
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    if (req.url !== "/ws") return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => wss.emit("connection", ws, req));
  });
  let seq = 0;
  const pad = "x".repeat(PRICE_FRAME_BYTES);
  setInterval(() => {
    const head = `{"type":"price","seq":${++seq},"epoch":"minimal","priceCents":${9_500_000 + (seq % 1000)},"at":${Date.now()},"pad":"`;
    const frame = Buffer.from(`${head}${pad.slice(0, PRICE_FRAME_BYTES - head.length - 2)}"}`);
    for (const ws of wss.clients) ws.send(frame, { binary: false });
  }, TICK_MS);
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
  });
  process.on("SIGTERM", () => process.exit(0));
}
