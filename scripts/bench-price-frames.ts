/**
 * Exchange frame handling cost (issue 14): how long parsing one real frame takes per exchange
 * (zod schemas, decimal → cents, event time), and judging a price on its event time. Frames come
 * from tests/fixtures/exchanges. Prints µs per frame and frames/s.
 *   npx tsx scripts/bench-price-frames.ts [frames=200000]
 */
import { parseBinance } from "../domain/price/binance.ts";
import { parseCoinbase } from "../domain/price/coinbase.ts";
import { parseKraken } from "../domain/price/kraken.ts";
import { addLagSample, judgePrice, measuredSkewMs, type SkewWindow } from "../domain/price/freshness.ts";
import { exchangeFrame } from "../tests/fixtures/exchanges/frames.ts";

const n = Number(process.argv[2] ?? 200_000);

function time(label: string, fn: (i: number) => unknown): void {
  for (let i = 0; i < Math.min(n, 10_000); i++) fn(i); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - start);
  const us = ns / 1000 / n;
  console.log(`${label.padEnd(44)} ${us.toFixed(2)} µs/frame (${Math.round(1e6 / us).toLocaleString("en-US")} frames/s)`);
}

console.log(`exchange frame benchmark (${n} frames each, node ${process.version})`);
const binance = exchangeFrame("binance", "trade-btcusdt");
const coinbase = exchangeFrame("coinbase", "ticker-btc-usd");
const kraken = exchangeFrame("kraken", "ticker-update-btc-usd-timestamp");
time("parse: Binance trade", () => parseBinance(binance));
time("parse: Coinbase ticker", () => parseCoinbase(coinbase));
time("parse: Kraken v2 ticker update", () => parseKraken(kraken));
const heartbeat = exchangeFrame("coinbase", "heartbeat-doc-example");
time("parse: Coinbase heartbeat", () => parseCoinbase(heartbeat));
const window: SkewWindow = { lagsMs: [] };
time("judge: skew sample + event-time verdict", (i) => {
  addLagSample(window, 20 + (i % 50));
  return judgePrice({ eventAtMs: 1_000_000 + i, arrivalAtMs: 1_000_040 + i, sequence: i, last: { eventAtMs: 1_000_000 + i - 1, sequence: i - 1 }, skewMs: measuredSkewMs(window, 500), staleMs: 2000, lagMaxMs: 1000 });
});
