/**
 * Multiplier from probability (SPEC §1, §4): `multiplier = (1 − houseEdge) / P(touch)`, rounded DOWN
 * to 0.01, as integer hundredths.
 *
 * Done in integers so that no float rounding can lift a multiplier above the exact value (which would
 * hand the player a sliver of the house edge): P is first rounded UP to a multiple of 1e-12,
 * Q = ceil(P·1e12), and then
 *   hundredths = floor((1 − edgeBp/10⁴)·100 / (Q/1e12)) = floor((10⁴ − edgeBp)·1e10 / Q),
 * an integer quotient of safe integers (numerator ≤ 1e14), corrected by exact multiplications.
 * Rounding P up by < 1e-12 changes nothing a player can see for any offered P (≥ ~1e-3).
 */

const P_SCALE = 1e12;

/**
 * floor((1 − edge)/P, 0.01) in hundredths; null when P is not a positive probability (no touch
 * possible: nothing can be offered).
 */
export function multiplierHundredths(pTouch: number, houseEdgeBp: number): number | null {
  if (!Number.isInteger(houseEdgeBp) || houseEdgeBp < 0 || houseEdgeBp >= 10_000) {
    throw new RangeError(`houseEdgeBp must be an integer in [0, 10000): ${houseEdgeBp}`);
  }
  if (!(pTouch > 0) || !Number.isFinite(pTouch)) return null;
  const q = Math.ceil(Math.min(pTouch, 1) * P_SCALE);
  const numerator = (10_000 - houseEdgeBp) * 1e10;
  let hundredths = Math.floor(numerator / q);
  // The float quotient is exact to well under 1; make the floor exact with integer products.
  while (hundredths * q > numerator) hundredths -= 1;
  while ((hundredths + 1) * q <= numerator) hundredths += 1;
  return hundredths;
}

/** The offered range [min, max] of SPEC §4 (config MIN/MAX_MULTIPLIER_HUNDREDTHS). */
export function isOffered(hundredths: number | null, minHundredths: number, maxHundredths: number): hundredths is number {
  return hundredths !== null && hundredths >= minHundredths && hundredths <= maxHundredths;
}
