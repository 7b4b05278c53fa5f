import type { IndexTick, PriceService, CircuitState } from "../../services/price/types.ts";

/** The next index tick satisfying `match` (default: any). */
export function nextTick(price: PriceService, match: (tick: IndexTick) => boolean = () => true, timeoutMs = 10_000): Promise<IndexTick> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching index tick within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = price.onTick((tick) => {
      if (!match(tick)) return;
      clearTimeout(timer);
      off();
      resolve(tick);
    });
  });
}

/** The next circuit change to `state`. */
export function nextCircuit(price: PriceService, state: CircuitState, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`circuit did not become ${state} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = price.onCircuit((s, at) => {
      if (s !== state) return;
      clearTimeout(timer);
      off();
      resolve(at);
    });
  });
}

/**
 * Polls `condition` until it holds: for state that has no event to await (health flags). The poll
 * interval is short and the deadline generous; a failure names what was awaited.
 */
export async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
