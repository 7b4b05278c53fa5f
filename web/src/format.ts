/** Display helpers of the demo page. Pure. Money arrives as integer micro-USD, prices as integer cents. */

const DOLLARS = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });

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
  const whole = (cents: number) => (cents % 100 === 0 ? `$${(cents / 100).toLocaleString("en-US")}` : formatCents(cents));
  return `${whole(lowCents)} – ${whole(highCents)}`;
}

/** 347 → "3.47x". */
export function formatMultiplier(hundredths: number): string {
  return `${(hundredths / 100).toFixed(2)}x`;
}

/** Epoch ms → "12:03:40" in the viewer's time zone. */
export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString("en-GB", { hour12: false });
}

/** "$1.00 on $95,120 – $95,130, 12:03:40 to 12:03:50, at 3.47x" — the sentence of a cell's aria-label. */
export function cellLabel(cell: { bandLowCents: number; bandHighCents: number; windowStart: number; windowEnd: number }, hundredths: number): string {
  return `Price ${formatBand(cell.bandLowCents, cell.bandHighCents)} between ${formatClock(cell.windowStart)} and ${formatClock(cell.windowEnd)}, pays ${formatMultiplier(hundredths)}`;
}
