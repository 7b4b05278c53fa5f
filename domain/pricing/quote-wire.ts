import type { QuoteInputs } from "./quote.ts";

/**
 * How a tick's quote inputs travel to clients (API.md § WebSocket `price`), and the rounding that
 * makes them the server's own inputs: one source of truth for the multiplier.
 *
 * The `price` frame already carries the tick's time (`at`) and price (`priceCents`); every other
 * field of QuoteInputs travels as a little-endian float32, in the order of `quoteKeys` (sent once, in
 * `hello`), the bytes in base64: 4 bytes a field, whatever the fields are called, so a field the
 * pricing model adds travels without any change here (it must be a quantity for which float32's 7
 * significant digits are plenty, not a timestamp). 13 fields are 72 characters, against ~330 as a
 * JSON object; the whole frame stays under 2 KB/s at 10 ticks a second.
 *
 * Rounding a model input to float32 changes it by at most 6e-8 of itself; the engine then quotes from
 * the rounded value (`roundQuoteInputs`, services/pricing/engine.ts), so a client that decodes the
 * frame holds bit for bit the numbers the server quotes from and computes exactly its multiplier.
 * `Math.fround` and a Float32Array store round the same way (IEEE 754 round to nearest even).
 */

/** Fields the frame carries on its own (`at`, `priceCents`): never in the encoded part. */
const FRAME_FIELDS: ReadonlySet<string> = new Set(["t", "priceCents"]);
const FLOAT_BYTES = 4;
/** Bound on the fields one frame may carry (a corrupt key list must not allocate without limit). */
export const QUOTE_KEYS_MAX = 64;

/** The encoded fields of `inputs`, in their own order: every field but t and priceCents. */
export function quoteKeysOf(inputs: QuoteInputs): string[] {
  return Object.keys(inputs).filter((key) => !FRAME_FIELDS.has(key));
}

/** The inputs as they travel: every encoded field rounded to float32 (t and priceCents untouched). */
export function roundQuoteInputs<T extends QuoteInputs>(inputs: T): T {
  const rounded: Record<string, number> = {};
  for (const [key, value] of Object.entries(inputs) as [string, number][]) rounded[key] = FRAME_FIELDS.has(key) ? value : Math.fround(value);
  return rounded as unknown as T;
}

/** The `quote` of a price frame: the fields named by `keys`, float32 little-endian, base64. */
export function encodeQuote(inputs: QuoteInputs, keys: readonly string[]): string {
  const view = new DataView(new ArrayBuffer(keys.length * FLOAT_BYTES));
  const fields = inputs as unknown as Record<string, number>;
  keys.forEach((key, i) => view.setFloat32(i * FLOAT_BYTES, fields[key] ?? Number.NaN, true));
  let binary = "";
  for (let i = 0; i < view.byteLength; i++) binary += String.fromCharCode(view.getUint8(i));
  return btoa(binary);
}

/**
 * The inputs of a price frame (`t` = its `at`, `priceCents` = its `priceCents`), or undefined when
 * `encoded` does not hold exactly one float32 per key.
 */
export function decodeQuote(encoded: string, keys: readonly string[], t: number, priceCents: number): QuoteInputs | undefined {
  if (keys.length === 0 || keys.length > QUOTE_KEYS_MAX || encoded.length !== Math.ceil((keys.length * FLOAT_BYTES) / 3) * 4) return undefined;
  let binary: string;
  try {
    binary = atob(encoded);
  } catch {
    return undefined;
  }
  if (binary.length !== keys.length * FLOAT_BYTES) return undefined;
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  const inputs: Record<string, number> = { t, priceCents };
  keys.forEach((key, i) => (inputs[key] = view.getFloat32(i * FLOAT_BYTES, true)));
  return inputs as unknown as QuoteInputs;
}
