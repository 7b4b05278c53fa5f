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
 * the real time elapsed, so a late timer does not make the volatility per second wrong; and each
 * step is planned from the schedule, not from when the last one ran, so a busy event loop delays a
 * tick but does not slow the source down (an exchange does not wait for us either).
 */
export class SyntheticSource {
  readonly #gbm: Gbm;
  readonly #o: SyntheticOptions;
  readonly #source: SourceHandle;
  #timer: NodeJS.Timeout | undefined;
  #lastAt: number | undefined;
  /** When the next step is due (performance.now() clock). */
  #dueAt = 0;

  constructor(options: SyntheticOptions, source: SourceHandle) {
    this.#o = options;
    this.#source = source;
    this.#gbm = new Gbm({ seed: options.seed, startCents: options.startCents, volAnnualBp: options.volAnnualBp });
  }

  start(): void {
    if (this.#timer) return;
    this.tick();
    this.#dueAt = performance.now();
    this.#schedule();
  }

  #schedule(): void {
    const now = performance.now();
    this.#dueAt += this.#o.tickMs;
    // More than a step behind (a long stall): carry on from now rather than catch up in a burst.
    if (this.#dueAt < now - this.#o.tickMs) this.#dueAt = now;
    this.#timer = setTimeout(() => {
      this.tick();
      this.#schedule();
    }, Math.max(0, this.#dueAt - now));
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
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
