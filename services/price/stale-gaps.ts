import type { AppContext } from "../types.ts";
import type { StaleGap } from "./types.ts";

type Queue = AppContext["queue"];

const GAPS_IN_MEMORY_MAX = 1000;

/**
 * The stale gaps of ADR-008, in memory for the resolver's synchronous questions and in
 * `stale_gaps` for proofs and restarts. Writes go through the shared batch queue in order, so the
 * row of a gap is always opened before it is closed.
 */
export class StaleGapLog {
  readonly #gaps: StaleGap[];
  readonly #queue: Queue;
  readonly #onPersistError: (error: unknown) => void;

  constructor(queue: Queue, recent: StaleGap[], onPersistError: (error: unknown) => void) {
    this.#queue = queue;
    this.#gaps = recent.slice(-GAPS_IN_MEMORY_MAX);
    this.#onPersistError = onPersistError;
  }

  /** The open gap, if the feed is stale now. */
  get open(): StaleGap | undefined {
    const last = this.#gaps.at(-1);
    return last && last.endAt === null ? last : undefined;
  }

  start(startAt: number): void {
    if (this.open) return;
    this.#gaps.push({ startAt, endAt: null });
    if (this.#gaps.length > GAPS_IN_MEMORY_MAX) this.#gaps.shift();
    this.#queue.run("price.openGap", startAt).catch(this.#onPersistError);
  }

  end(endAt: number): void {
    const open = this.open;
    if (!open) return;
    // A gap never ends before it starts, even with a clock that moved backwards.
    open.endAt = Math.max(endAt, open.startAt);
    this.#queue.run("price.closeGaps", open.endAt).catch(this.#onPersistError);
  }

  /** Gaps overlapping [fromMs, toMs); copies, so callers cannot edit the log. */
  overlapping(fromMs: number, toMs: number): StaleGap[] {
    const found: StaleGap[] = [];
    for (const gap of this.#gaps) {
      if (gap.startAt < toMs && (gap.endAt === null || gap.endAt > fromMs)) found.push({ ...gap });
    }
    return found;
  }
}
