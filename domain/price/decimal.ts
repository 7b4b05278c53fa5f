const DECIMAL = /^(\d{1,12})(?:\.(\d{1,18}))?$/;

/**
 * Exact conversion of an exchange's decimal price string ("97123.456") to integer cents, rounding
 * half up on the third decimal. Returns undefined for anything that is not a plain positive decimal
 * (exponents, signs, empty parts), so a malformed message never becomes a price.
 */
export function decimalToCents(text: string): number | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const whole = Number(m[1]);
  const fraction = (m[2] ?? "").padEnd(3, "0");
  let cents = whole * 100 + Number(fraction.slice(0, 2));
  if (fraction.charCodeAt(2) - 48 >= 5) cents += 1;
  return Number.isSafeInteger(cents) && cents > 0 ? cents : undefined;
}

/** A JSON number price (Kraken v2 sends numbers) to cents; undefined unless positive and finite. */
export function numberToCents(value: number): number | undefined {
  if (!Number.isFinite(value) || value <= 0) return undefined;
  // toFixed rounds on the decimal representation, avoiding 0.1+0.2 style drift of value*100.
  return decimalToCents(value.toFixed(3));
}
