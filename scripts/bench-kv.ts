/**
 * The embedded session/nonce store per operation: disk (DATA_DIR/sessions.db, the default without
 * Redis) against memory. One process, sequential calls, as the API makes them; prints µs per call.
 *
 *   npx tsx scripts/bench-kv.ts [calls=20000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDiskKv, createMemoryKv, type Kv } from "../storage/kv/index.ts";

const calls = Math.min(1_000_000, Math.max(100, Number(process.argv[2] ?? 20_000)));
const dir = mkdtempSync(join(tmpdir(), "tap-bench-kv-"));

async function measure(kv: Kv): Promise<Record<string, number>> {
  const value = JSON.stringify({ address: "0x0000000000000000000000000000000000000000", accountId: 1, expiresAt: Date.now() });
  const out: Record<string, number> = {};
  const time = async (name: string, op: (i: number) => Promise<unknown>) => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await op(i);
    out[name] = ((performance.now() - t0) * 1000) / calls;
  };
  await time("setIfAbsent (nonce issue)", (i) => kv.setIfAbsent(`nonce:${i}`, value, 600_000));
  await time("take (nonce verify)", (i) => kv.take(`nonce:${i}`));
  await time("set (session create)", (i) => kv.set(`session:${i}`, value, 86_400_000));
  await time("get (session check)", (i) => kv.get(`session:${i}`));
  await time("del (logout)", (i) => kv.del(`session:${i}`));
  return out;
}

try {
  const disk = await measure(createDiskKv({ path: join(dir, "sessions.db"), table: "bench", keysMax: 1_000_000 }));
  const memory = await measure(createMemoryKv());
  console.log(`${calls} sequential calls each; µs per call (disk = libSQL WAL, synchronous=NORMAL)`);
  for (const name of Object.keys(disk)) console.log(`${name.padEnd(26)} disk ${disk[name]!.toFixed(1).padStart(7)}  memory ${memory[name]!.toFixed(1).padStart(7)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
