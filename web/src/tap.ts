/** What a tap sends (API.md § Client surface). Pure. */

/** Slippage allowances the player may pick, in basis points; the default is the largest (3 %). */
export const SLIPPAGE_CHOICES_BP = [0, 50, 100, 200, 300] as const;
export const DEFAULT_SLIPPAGE_BP = 300;

/**
 * The `minMultiplier` of a tap: the shown multiplier less the allowance, rounded UP to 0.01 so the
 * bet never goes through below `shown × (1 − allowance)`. Integer arithmetic on hundredths.
 */
export function minMultiplierFor(shownHundredths: number, slippageBp: number): number {
  return minHundredthsFor(shownHundredths, slippageBp) / 100;
}

/** The same in integer hundredths. */
export function minHundredthsFor(shownHundredths: number, slippageBp: number): number {
  if (!Number.isInteger(shownHundredths) || shownHundredths <= 0) throw new RangeError(`bad multiplier ${shownHundredths}`);
  if (!Number.isInteger(slippageBp) || slippageBp < 0 || slippageBp >= 10_000) throw new RangeError(`bad allowance ${slippageBp}`);
  return Math.ceil((shownHundredths * (10_000 - slippageBp)) / 10_000);
}

export type TapDecision = { send: true; minMultiplier: number } | { send: false; movedToHundredths: number };

/**
 * What a tap does (API.md § Client surface). The allowance is relative to the multiplier on screen
 * when the player tapped (`shown`), never to a newer quote the player has not seen: the minimum sent
 * is never below shown × (1 − allowance). When the freshest quote the page holds (`fresh`) is already
 * below that, sending would only be refused: the page shows the new multiplier instead, and the player
 * taps again if it suits them.
 */
export function decideTap(shownHundredths: number, freshHundredths: number, slippageBp: number): TapDecision {
  const minHundredths = minHundredthsFor(shownHundredths, slippageBp);
  if (freshHundredths < minHundredths) return { send: false, movedToHundredths: freshHundredths };
  return { send: true, minMultiplier: minHundredths / 100 };
}

/** A fresh idempotency key (API.md: 8..64 chars): 32 hex chars from the browser's CSPRNG. */
export function newIdempotencyKey(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
