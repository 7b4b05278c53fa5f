/** Display helpers of the demo page. Pure. Money arrives as integer micro-USD, prices as integer cents. */

// Formatters are built once: constructing one per call is what makes locale formatting slow.
const DOLLARS = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });
const WHOLE_DOLLARS = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const CLOCK = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

/** 1 000 000 000 → "$1,000.00" (rounded down to the cent: a balance is never shown larger than it is). */
export function formatMicroUsd(microUsd: number): string {
  const cents = Math.floor(microUsd / 10_000);
  return DOLLARS.format(cents / 100);
}

/** 9 512 345 → "$95,123.45". */
export function formatCents(cents: number): string {
  return DOLLARS.format(cents / 100);
}

/** A price band as the player reads it: "$95,120 – $95,130". */
export function formatBand(lowCents: number, highCents: number): string {
  const whole = (cents: number) => (cents % 100 === 0 ? `$${WHOLE_DOLLARS.format(cents / 100)}` : formatCents(cents));
  return `${whole(lowCents)} – ${whole(highCents)}`;
}

/** 347 → "3.47x". */
export function formatMultiplier(hundredths: number): string {
  return `${(hundredths / 100).toFixed(2)}x`;
}

/** Epoch ms → "12:03:40" in the viewer's time zone. */
export function formatClock(ms: number): string {
  return CLOCK.format(ms);
}

/** "Price $95,120 – $95,130 between 12:03:40 and 12:03:50" — what a cell is (fixed for its life). */
export function cellPlace(cell: { bandLowCents: number; bandHighCents: number; windowStart: number; windowEnd: number }): string {
  return `Price ${formatBand(cell.bandLowCents, cell.bandHighCents)} between ${formatClock(cell.windowStart)} and ${formatClock(cell.windowEnd)}`;
}

/** "Price $95,120 – $95,130 between 12:03:40 and 12:03:50, pays 3.47x" — the sentence of a cell's aria-label. */
export function cellLabel(cell: { bandLowCents: number; bandHighCents: number; windowStart: number; windowEnd: number }, hundredths: number): string {
  return `${cellPlace(cell)}, pays ${formatMultiplier(hundredths)}`;
}
