import { Gbm } from "../../domain/price/gbm.ts";
import type { SourceHandle } from "./feed.ts";

export interface SyntheticOptions {
  seed: number;
  startCents: number;
  volAnnualBp: number;
  tickMs: number;
  now: () => number;
}

/**
 * The offline default source (SPEC §7): a seeded GBM path sampled every `tickMs`. Each step uses
 * the real time elapsed, so a late timer does not make the volatility per second wrong.
 */
export class SyntheticSource {
  readonly #gbm: Gbm;
  readonly #o: SyntheticOptions;
  readonly #source: SourceHandle;
  #timer: NodeJS.Timeout | undefined;
  #lastAt: number | undefined;

  constructor(options: SyntheticOptions, source: SourceHandle) {
    this.#o = options;
    this.#source = source;
    this.#gbm = new Gbm({ seed: options.seed, startCents: options.startCents, volAnnualBp: options.volAnnualBp });
  }

  start(): void {
    if (this.#timer) return;
    this.tick();
    this.#timer = setInterval(() => this.tick(), this.#o.tickMs);
    this.#timer.unref();
  }

  /** One step of the path (public so tests can drive it without timers). */
  tick(): void {
    const at = this.#o.now();
    const dtMs = this.#lastAt === undefined ? 0 : Math.max(0, at - this.#lastAt);
    this.#lastAt = at;
    this.#source.price(this.#gbm.step(dtMs), at);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
