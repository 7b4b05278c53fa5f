import { SeededRandom } from "./simulation.ts";
import { sigmaFromAnnual } from "./volatility.ts";

/**
 * A seeded market simulator for testing the pricing model against a BTC-like index rather than the
 * constant-volatility random walk the model assumes (SPEC §4 "Robust to the real market", issue 12).
 * Pure: the same seed gives the same ticks on every machine.
 *
 * The index is `round(S0 · exp(x + ε + u))` cents, observed at ticks:
 * - x, the EFFICIENT log-price: a driftless Brownian motion whose volatility switches between calm
 *   and bursts (a two-state Markov chain in continuous time), plus compound-Poisson jumps;
 * - ε, iid tick noise (bid–ask bounce: consecutive trade prints alternate between bid and ask);
 * - u, mean-reverting tick noise (an Ornstein–Uhlenbeck deviation: a print away from the efficient
 *   price that decays over about a second, e.g. one exchange's book briefly leading the median);
 * - ticks about every 100 ms (the real sources' index cadence; jittered 60–140 ms), with feed pauses
 *   of 0.5–1.9 s during which the efficient price keeps moving but nothing is observed (shorter than
 *   PRICE_STALE_MS = 2 s, so the circuit stays closed and bets in those windows are settled, not void).
 *
 * Why these sizes are realistic (BTC-USD near $95 000):
 * - calm volatility 50 %/year: BTC's 30-day realised volatility has mostly been 35–70 %/year in
 *   2023–2025; at 50 % σ per √ms is 0.5/√(3.156e10) ≈ 2.8e-6, i.e. $2.7 per 100 ms and $27 per
 *   10 s column at $95k.
 * - bursts 4–6× lasting seconds to tens of seconds, a few per minute in the bursty regime:
 *   liquidation cascades and news prints move BTC $100–$300 in 10–30 s (≈ 4–6× the calm $27–$45),
 *   and intraday realised volatility on 1 s returns clusters in exactly such spells.
 * - jumps: a single print moving the index $30–$150 (σ_jump = 6 bp ≈ $57), about one a minute in the
 *   jumpy regime — a sweep of the book on one exchange that the median follows.
 * - iid tick noise σ $2.5: BTC's top-of-book spread on the big spot venues is $0.01–$5 (usually
 *   cents on Binance, a few dollars on Kraken/Coinbase in fast markets); a median of three trade
 *   prints inherits part of the bounce, so $1–$3 per tick is the realistic range; $2.5 is the upper side.
 * - mean-reverting noise σ $3 with a 1.5 s time constant: one venue leading or lagging the others by a
 *   second (the index is a median; when one venue jumps ahead the median moves partway, then back).
 * - pauses: 0.5–1.9 s silences, several a minute in the pausing regime (reconnects, exchange-side
 *   batching, a slow event loop upstream). Longer ones open the circuit breaker and are a separate path.
 */

export interface MarketRegime {
  name: string;
  calmVolAnnual: number;
  /** Bursts per minute (starts while calm), mean duration (exponential, clamped to [2 s, 40 s]) and σ multiple range. */
  burstsPerMinute: number;
  burstMeanMs: number;
  burstMultipleMin: number;
  burstMultipleMax: number;
  /** Jumps per minute and the σ of one jump's log size. */
  jumpsPerMinute: number;
  jumpSigmaLog: number;
  /** iid noise σ and OU noise σ (stationary) in cents at the start price, OU time constant. */
  iidNoiseCents: number;
  mrNoiseCents: number;
  mrNoiseTauMs: number;
  /** Feed pauses per minute, each uniform in [pauseMinMs, pauseMaxMs]. */
  pausesPerMinute: number;
  pauseMinMs: number;
  pauseMaxMs: number;
}

const BASE: MarketRegime = {
  name: "calm",
  calmVolAnnual: 0.5,
  burstsPerMinute: 0,
  burstMeanMs: 10_000,
  burstMultipleMin: 4,
  burstMultipleMax: 6,
  jumpsPerMinute: 0,
  jumpSigmaLog: 6e-4,
  // Even a calm index carries a little bounce (a median of three venues' last trades).
  iidNoiseCents: 50,
  mrNoiseCents: 0,
  mrNoiseTauMs: 1_500,
  pausesPerMinute: 0,
  pauseMinMs: 500,
  pauseMaxMs: 1_900,
};

/** The regimes of issue 12's acceptance: calm, bursty, jumpy, noisy, mean-reverting noise, pausing, all mixed. */
export const MARKET_REGIMES: readonly MarketRegime[] = [
  BASE,
  { ...BASE, name: "bursty", burstsPerMinute: 2, burstMeanMs: 8_000 },
  { ...BASE, name: "jumpy", jumpsPerMinute: 1 },
  { ...BASE, name: "noisy", iidNoiseCents: 250 },
  { ...BASE, name: "mr-noise", mrNoiseCents: 300 },
  { ...BASE, name: "pausing", pausesPerMinute: 4 },
  {
    ...BASE,
    name: "mixed",
    burstsPerMinute: 1,
    jumpsPerMinute: 0.5,
    iidNoiseCents: 200,
    mrNoiseCents: 200,
    pausesPerMinute: 2,
  },
];

export function regimeByName(name: string): MarketRegime {
  const regime = MARKET_REGIMES.find((r) => r.name === name);
  if (!regime) throw new RangeError(`unknown market regime ${name}`);
  return regime;
}

export interface MarketPath {
  /** Tick times (ms, strictly increasing) and index prices (integer cents). */
  t: Float64Array;
  priceCents: Float64Array;
  /** Whether a volatility burst was on at each tick (for diagnostics; not public information). */
  burst: Uint8Array;
  /** The simulator's hidden state at each tick (not public information: what the true law of the future is conditioned on). */
  hidden: HiddenSeries;
  length: number;
}

/** The hidden state at each tick: efficient log-price, mean-reverting noise, burst multiple and time left. */
export interface HiddenSeries {
  x: Float64Array;
  u: Float64Array;
  multiple: Float64Array;
  burstLeftMs: Float64Array;
}

/** The simulator's state between steps (log-prices relative to the start price). */
export interface MarketState {
  now: number;
  x: number;
  u: number;
  multiple: number;
  burstLeftMs: number;
  pauseLeftMs: number;
}

export interface MarketSpec {
  regime: MarketRegime;
  seed: number;
  startMs: number;
  durationMs: number;
  startCents: number;
  /** Mean tick spacing; each gap is uniform in [0.6, 1.4] × it. */
  tickMs?: number;
}

/** Ticks are bounded: at most one per 50 ms of simulated time. */
const MIN_TICK_MS = 50;

/** The mean tick spacing a spec asks for, bounded below. */
export function tickSpacingMs(tickMs: number | undefined): number {
  return Math.max(tickMs ?? 100, MIN_TICK_MS / 0.6);
}

/** What one step of the simulator produced: the end of the path, a step during a feed pause, or a tick. */
export const STEP_END = 0;
export const STEP_PAUSED = 1;
export const STEP_TICK = 2;

/**
 * The simulator's step law, shared by `simulateMarket` and by the true conditional law
 * (market-truth.ts), so both move the market the same way. `step(state, endMs)` advances `state` by one
 * tick gap (mutates it) and returns STEP_END once `state.now` reaches `endMs`, STEP_PAUSED during a feed
 * pause, or STEP_TICK with the observed log-price (efficient + noise) in `observed()`.
 */
export function createStepper(g: MarketRegime, startCents: number, tickMs: number, rng: SeededRandom) {
  const z = new Float64Array(1024);
  let used = z.length;
  const normal = () => {
    if (used === z.length) {
      rng.fillNormals(z);
      used = 0;
    }
    return z[used++]!;
  };
  const calmSigma = sigmaFromAnnual(g.calmVolAnnual);
  const perMs = (perMinute: number) => perMinute / 60_000;
  const iidSigma = g.iidNoiseCents / startCents;
  const mrSigma = g.mrNoiseCents / startCents;
  let observed = 0;
  return {
    normal,
    mrSigma,
    observed: () => observed,
    step(st: MarketState, endMs: number): number {
      const dt = tickMs * (0.6 + 0.8 * rng.next());
      st.now += dt;
      if (st.now >= endMs) return STEP_END;
      // Volatility regime over this step (switches are resolved at step granularity: 100 ms ≪ bursts).
      if (st.burstLeftMs > 0) {
        st.burstLeftMs -= dt;
        if (st.burstLeftMs <= 0) st.multiple = 1;
      } else if (g.burstsPerMinute > 0 && rng.next() < perMs(g.burstsPerMinute) * dt) {
        st.burstLeftMs = Math.min(40_000, Math.max(2_000, -g.burstMeanMs * Math.log(rng.next())));
        st.multiple = g.burstMultipleMin + (g.burstMultipleMax - g.burstMultipleMin) * rng.next();
      }
      st.x += calmSigma * st.multiple * Math.sqrt(dt) * normal();
      if (g.jumpsPerMinute > 0 && rng.next() < perMs(g.jumpsPerMinute) * dt) st.x += g.jumpSigmaLog * normal();
      if (mrSigma > 0) {
        const keep = Math.exp(-dt / g.mrNoiseTauMs);
        st.u = st.u * keep + mrSigma * Math.sqrt(1 - keep * keep) * normal();
      }
      if (st.pauseLeftMs > 0) {
        st.pauseLeftMs -= dt;
        return STEP_PAUSED;
      }
      if (g.pausesPerMinute > 0 && rng.next() < perMs(g.pausesPerMinute) * dt) {
        st.pauseLeftMs = g.pauseMinMs + (g.pauseMaxMs - g.pauseMinMs) * rng.next() - dt;
        return STEP_PAUSED;
      }
      observed = st.x + st.u + (iidSigma > 0 ? iidSigma * normal() : 0);
      return STEP_TICK;
    },
  };
}

/** Simulates one index path (see the module comment). O(duration / tick). */
export function simulateMarket(spec: MarketSpec): MarketPath {
  const { regime: g, durationMs, startMs, startCents } = spec;
  const tickMs = tickSpacingMs(spec.tickMs);
  const capacity = Math.ceil(durationMs / (tickMs * 0.6)) + 2;
  const t = new Float64Array(capacity);
  const priceCents = new Float64Array(capacity);
  const burst = new Uint8Array(capacity);
  const hidden: HiddenSeries = { x: new Float64Array(capacity), u: new Float64Array(capacity), multiple: new Float64Array(capacity), burstLeftMs: new Float64Array(capacity) };
  const stepper = createStepper(g, startCents, tickMs, new SeededRandom(spec.seed));
  const st: MarketState = { now: startMs, x: 0, u: stepper.mrSigma * stepper.normal(), multiple: 1, burstLeftMs: 0, pauseLeftMs: 0 };
  const endMs = startMs + durationMs;
  let n = 0;
  while (n < capacity) {
    const kind = stepper.step(st, endMs);
    if (kind === STEP_END) break;
    if (kind === STEP_PAUSED) continue;
    t[n] = Math.round(st.now);
    if (n > 0 && t[n]! <= t[n - 1]!) t[n] = t[n - 1]! + 1;
    priceCents[n] = Math.round(startCents * Math.exp(stepper.observed()));
    burst[n] = st.multiple > 1 ? 1 : 0;
    hidden.x[n] = st.x;
    hidden.u[n] = st.u;
    hidden.multiple[n] = st.multiple;
    hidden.burstLeftMs[n] = st.burstLeftMs;
    n++;
  }
  return { t, priceCents, burst, hidden, length: n };
}
