/**
 * Seeded geometric Brownian motion for the synthetic price source: deterministic for a seed,
 * zero drift, log-normal steps with the given annualised volatility. Floats are fine here: this is
 * a simulated market, not money; prices leave it as integer cents.
 */
const MS_PER_YEAR = 365.25 * 24 * 3600 * 1000;

/** sfc32: a small, fast, well-distributed 32-bit PRNG; the seed fully determines the stream. */
export function seededRandom(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed | 0;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // mix the seed in
  return next;
}

/** Standard normal draws by Box–Muller from a uniform source. */
export function normalSampler(random01: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u <= Number.EPSILON) u = random01();
    const v = random01();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export interface GbmOptions {
  seed: number;
  startCents: number;
  /** Annualised volatility in basis points (6000 = 60%, a typical BTC figure). */
  volAnnualBp: number;
}

export class Gbm {
  #logPrice: number;
  readonly #sigmaPerSqrtMs: number;
  readonly #normal: () => number;

  constructor(options: GbmOptions) {
    this.#logPrice = Math.log(options.startCents);
    this.#sigmaPerSqrtMs = options.volAnnualBp / 10_000 / Math.sqrt(MS_PER_YEAR);
    this.#normal = normalSampler(seededRandom(options.seed));
  }

  get sigmaPerSqrtMs(): number {
    return this.#sigmaPerSqrtMs;
  }

  /** Advances the path by `dtMs` and returns the new price in whole cents (at least 1). */
  step(dtMs: number): number {
    const dt = Math.max(dtMs, 0);
    const sigma = this.#sigmaPerSqrtMs;
    // Itô correction keeps the price a martingale: E[S_t] = S_0.
    this.#logPrice += -0.5 * sigma * sigma * dt + sigma * Math.sqrt(dt) * this.#normal();
    return Math.max(1, Math.round(Math.exp(this.#logPrice)));
  }
}
