import type { Proof } from "./api.ts";
import { formatBand, formatCents, formatClock } from "./format.ts";

/** Draws a proof: the window's stored ticks as a line against the band, on a canvas. */
export function drawProof(canvas: HTMLCanvasElement, proof: Proof): void {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 480;
  const height = canvas.clientHeight || 240;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext("2d");
  if (!g) return;
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const { bet, ticks } = proof;
  const prices = [bet.bandLowCents, bet.bandHighCents, ...ticks.map((t) => t.priceCents)];
  const spread = Math.max(...prices) - Math.min(...prices);
  const lo = Math.min(...prices) - spread * 0.15 - 1;
  const hi = Math.max(...prices) + spread * 0.15 + 1;
  const pad = { left: 8, right: 8, top: 8, bottom: 20 };
  const x = (t: number) => pad.left + ((t - bet.windowStart) / (bet.windowEnd - bet.windowStart)) * (width - pad.left - pad.right);
  const y = (p: number) => pad.top + ((hi - p) / (hi - lo)) * (height - pad.top - pad.bottom);

  g.fillStyle = "rgba(255, 196, 0, 0.25)";
  g.fillRect(x(bet.windowStart), y(bet.bandHighCents), x(bet.windowEnd) - x(bet.windowStart), y(bet.bandLowCents) - y(bet.bandHighCents));
  g.strokeStyle = "rgba(255, 196, 0, 0.9)";
  g.strokeRect(x(bet.windowStart), y(bet.bandHighCents), x(bet.windowEnd) - x(bet.windowStart), y(bet.bandLowCents) - y(bet.bandHighCents));

  g.strokeStyle = "#4fc3f7";
  g.fillStyle = "#4fc3f7";
  g.lineWidth = 1.5;
  g.beginPath();
  ticks.forEach((tick, i) => (i === 0 ? g.moveTo(x(tick.t), y(tick.priceCents)) : g.lineTo(x(tick.t), y(tick.priceCents))));
  g.stroke();
  for (const tick of ticks) g.fillRect(x(tick.t) - 1.5, y(tick.priceCents) - 1.5, 3, 3);

  g.fillStyle = "#9aa4b2";
  g.font = "11px system-ui, sans-serif";
  g.fillText(formatClock(bet.windowStart), pad.left, height - 5);
  const end = formatClock(bet.windowEnd);
  g.fillText(end, width - pad.right - g.measureText(end).width, height - 5);
}

/** The sentence under the chart: outcome, how many ticks, the band. */
export function proofSummary(proof: Proof): string {
  const { bet, ticks } = proof;
  const inBand = ticks.filter((t) => t.priceCents >= bet.bandLowCents && t.priceCents < bet.bandHighCents).length;
  const range = ticks.length ? `, from ${formatCents(Math.min(...ticks.map((t) => t.priceCents)))} to ${formatCents(Math.max(...ticks.map((t) => t.priceCents)))}` : "";
  return (
    `Band ${formatBand(bet.bandLowCents, bet.bandHighCents)}, ${formatClock(bet.windowStart)}–${formatClock(bet.windowEnd)}. ` +
    `${ticks.length} stored ticks in the window${range}; ${inBand} inside the band. ` +
    `Recomputed outcome: ${proof.recomputed} (recorded: ${bet.status}).`
  );
}
