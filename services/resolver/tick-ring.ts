import type { Tick } from "../../domain/resolution.ts";

/** The most recent ticks seen live, bounded; the oldest fall out first. t is strictly increasing. */
export class TickRing {
  #ticks: Tick[] = [];
  #head = 0;

  constructor(readonly capacity: number) {
    if (capacity < 1) throw new Error("tick ring capacity must be >= 1");
  }

  get size(): number {
    return this.#ticks.length - this.#head;
  }

  push(tick: Tick): void {
    this.#ticks.push(tick);
    if (this.size > this.capacity) this.#head++;
    // Compact now and then instead of shifting on every push.
    if (this.#head >= this.capacity) {
      this.#ticks = this.#ticks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Ticks with fromMs ≤ t < toMs, oldest first. */
  between(fromMs: number, toMs: number): Tick[] {
    let lo = this.#head;
    let hi = this.#ticks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#ticks[mid]!.t < fromMs) lo = mid + 1;
      else hi = mid;
    }
    const found: Tick[] = [];
    for (let i = lo; i < this.#ticks.length && this.#ticks[i]!.t < toMs; i++) found.push(this.#ticks[i]!);
    return found;
  }
}
