import { CURRENT_MIGRATIONS_DIR, databasePaths, migrate, openDatabase } from "../../storage/db.ts";
import { normalSampler, seededRandom } from "../../domain/price/gbm.ts";
import { loadConfig } from "../../runtime/config.ts";

/**
 * Stores `minutes` of index ticks that end just before `endAt` at `endCents` in DATA_DIR's current.db,
 * so the server started on it warms its pricing up from them (services/pricing `warmUp`) and is
 * measured as one that has been running: a warm estimate prices each cell once, a fresh one at up to
 * three corners of its credible range (issue 21). A seeded Gaussian walk at the synthetic source's
 * defaults (60 %/year, a tick every 100 ms), drawn backwards from the price the source starts at so
 * the stored and the live ticks join without a jump.
 */
export function seedWarmTicks(dataDir: string, options: { minutes: number; endAt: number; endCents: number; tickMs?: number; volAnnual?: number; seed?: number }): number {
  const tickMs = options.tickMs ?? 100;
  const volAnnual = options.volAnnual ?? 0.6;
  const sdPerTick = volAnnual * Math.sqrt(tickMs / (365.25 * 24 * 3600 * 1000));
  const count = Math.round((options.minutes * 60_000) / tickMs);
  const gaussian = normalSampler(seededRandom(options.seed ?? 7));
  const db = openDatabase(databasePaths({ DATA_DIR: dataDir }).current, { busyTimeoutMs: 5_000, synchronous: "NORMAL" });
  try {
    migrate(db, CURRENT_MIGRATIONS_DIR);
    const insert = db.prepare("INSERT INTO price_ticks (t, price_cents) VALUES (?, ?)");
    let logPrice = Math.log(options.endCents);
    db.exec("BEGIN");
    for (let i = 1; i <= count; i++) {
      insert.run(options.endAt - i * tickMs, Math.max(1, Math.round(Math.exp(logPrice))));
      logPrice -= sdPerTick * gaussian();
    }
    db.exec("COMMIT");
    return count;
  } finally {
    db.close();
  }
}

/**
 * The benches' "server that has been running" (`npm run bench`, scripts/profile-bets.ts): 30 minutes
 * of ticks ending a second ago at the synthetic source's default start price, where its live ticks
 * begin.
 */
export function seedRunningServerTicks(dataDir: string): number {
  return seedWarmTicks(dataDir, { minutes: 30, endAt: Date.now() - 1_000, endCents: loadConfig({}).SYNTHETIC_START_CENTS });
}
