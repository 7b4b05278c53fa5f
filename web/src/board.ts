import type { Bet } from "./api.ts";
import { cellBetText, cellStatus } from "./bets.ts";
import { cellPlace, formatCents, formatClock, formatMultiplier } from "./format.ts";
import { GRID_COLUMNS, GRID_ROWS, LOCK_MARGIN_MS, cellKey, type Market, type OfferedCell } from "./market.ts";

/**
 * The board: the index as a line on a canvas and the cells as buttons on a layer above it, both on
 * one time axis that scrolls left as time passes. Each animation frame moves the layer with one
 * transform and redraws the line; the buttons themselves are only touched when the offered cells,
 * their multipliers, the player's bets or the circuit change.
 */

/** Time shown left of "now", in columns. */
const PAST_COLUMNS = 3;
/**
 * Multipliers on screen follow every tick, as soon as it arrives (main.ts calls `requote`). A tap's
 * allowance is relative to what is on screen (tap.ts decideTap), so the screen must show what the
 * server quotes now: refreshed every 250 ms, as before, a third to half of the taps on a moving price
 * met a quote already more than 3 % lower (far cells move several % a tick) and had to be tapped again.
 */
/** How fast the view follows a recentred grid (fraction of the gap closed per frame). */
const RECENTRE_EASE = 0.12;

interface CellView {
  button: HTMLButtonElement;
  /** "Price $… between … and …": fixed for the cell's life. */
  place: string;
  /** What was last written, to skip identical DOM writes. */
  rendered: string;
  /** The layout (origin, scale) its position was computed for. */
  placedFor: string;
}

export interface BoardEvents {
  onTap(cell: OfferedCell): void;
}

export class Board {
  readonly #cells = new Map<string, CellView>();
  readonly #layer: HTMLElement;
  #width = 0;
  #height = 0;
  #pxPerMs = 0;
  #pxPerCent = 0;
  /** Layer coordinates are relative to these, so pixel numbers stay small. */
  #originMs = 0;
  #originCents = 0;
  #viewCentreCents: number | undefined;
  #renderedVersion = "";
  #renderedMarketVersion = -1;
  #pending = new Set<string>();

  constructor(
    private readonly root: HTMLElement,
    private readonly canvas: HTMLCanvasElement,
    private readonly market: Market,
    private readonly bets: () => Map<string, Bet[]>,
    private readonly betsVersion: () => number,
    private readonly events: BoardEvents,
  ) {
    this.#layer = document.createElement("div");
    this.#layer.className = "cells";
    root.append(this.#layer);
    this.#layer.addEventListener("click", (event) => {
      const button = (event.target as HTMLElement).closest("button");
      const key = button?.dataset.key;
      if (!button || button.disabled || key === undefined || button.dataset.multiplier === undefined) return;
      const cell = this.#offered.get(key);
      if (cell) this.events.onTap(cell);
    });
    new ResizeObserver(() => this.#resize()).observe(root);
    this.#resize();
  }

  #offered = new Map<string, OfferedCell>();

  /**
   * A tap reads the multiplier of the freshest tick the page holds, which the next frame would show
   * anyway; this shows it on the cell at once, so what the player sees is what the tap sends.
   */
  showMultiplier(cell: OfferedCell): void {
    const view = this.#cells.get(cell.key);
    if (!view || view.button.dataset.betStatus !== undefined) return;
    this.#offered.set(cell.key, cell);
    this.#renderCell(cell, cell.multiplierHundredths, undefined, this.market.circuit === "open");
  }

  /** Marks a cell as waiting for the answer to a tap. */
  setPending(key: string, pending: boolean): void {
    if (pending) this.#pending.add(key);
    else this.#pending.delete(key);
    const button = this.#cells.get(key)?.button;
    if (button && pending) button.dataset.pending = "true";
    else if (button) delete button.dataset.pending;
    this.#renderedVersion = "";
  }

  start(): void {
    const frame = () => {
      this.#frame();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  #resize(): void {
    const rect = this.root.getBoundingClientRect();
    this.#width = Math.max(rect.width, 200);
    this.#height = Math.max(rect.height, 200);
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.#width * ratio);
    this.canvas.height = Math.round(this.#height * ratio);
    this.#renderedVersion = "";
  }

  #spanMs(): number {
    // The first offered column starts up to one column after now + lock: leave room for the last one.
    return (PAST_COLUMNS + GRID_COLUMNS + 1.2) * this.market.columnMs + this.market.lockMs + LOCK_MARGIN_MS;
  }

  #frame(): void {
    const market = this.market;
    const now = market.now();
    const last = market.lastPrice;
    this.#pxPerMs = this.#width / this.#spanMs();
    this.#pxPerCent = this.#height / (GRID_ROWS * market.rowCents);
    if (last !== undefined && market.centreRow !== undefined) {
      const target = (market.centreRow + 0.5) * market.rowCents;
      if (this.#viewCentreCents === undefined || Math.abs(target - this.#viewCentreCents) > GRID_ROWS * market.rowCents) {
        this.#viewCentreCents = target;
        this.#originCents = target;
        this.#originMs = now;
        this.#renderedVersion = "";
      } else {
        this.#viewCentreCents += (target - this.#viewCentreCents) * RECENTRE_EASE;
        if (Math.abs(target - this.#viewCentreCents) < 0.5) this.#viewCentreCents = target;
      }
    }
    this.#requoteIfChanged(now);
    const centre = this.#viewCentreCents ?? 0;
    const dx = (this.#originMs - now) * this.#pxPerMs + PAST_COLUMNS * market.columnMs * this.#pxPerMs;
    const dy = this.#height / 2 + (centre - this.#originCents) * this.#pxPerCent;
    this.#layer.style.transform = `translate3d(${dx.toFixed(2)}px, ${dy.toFixed(2)}px, 0)`;
    this.#drawLine(now, centre);
  }

  /**
   * Shows the market's latest quotes now, without waiting for the next animation frame: called when
   * a tick arrives, so that what a tap reads on a cell is always the freshest tick's quote.
   */
  requote(): void {
    this.#requoteIfChanged(this.market.now());
  }

  // Offered cells change with ticks, with the column boundary and with bets: recompute then only.
  #requoteIfChanged(now: number): void {
    const market = this.market;
    const firstCol = market.firstOfferedColumn(now);
    const version = `${firstCol}|${this.betsVersion()}|${market.circuit}|${this.#width}x${this.#height}`;
    if (version === this.#renderedVersion && market.version === this.#renderedMarketVersion) return;
    this.#renderedVersion = version;
    this.#renderedMarketVersion = market.version;
    this.#renderCells(now);
    // The tick the shown multipliers were computed from (for people and tests checking lag).
    const at = market.lastPrice?.t;
    if (at !== undefined) this.root.dataset.quoteAt = String(at);
  }

  #renderCells(now: number): void {
    const market = this.market;
    const offered = market.offeredCells(now);
    this.#offered = new Map(offered.map((c) => [c.key, c]));
    const betsByCell = this.bets();
    const visibleFrom = now - PAST_COLUMNS * market.columnMs;
    const keep = new Set<string>();
    const disabled = market.circuit === "open";
    for (const cell of offered) {
      keep.add(cell.key);
      this.#renderCell(cell, cell.multiplierHundredths, betsByCell.get(cell.key), disabled);
    }
    // Cells holding the player's bets stay visible (locked) until they scroll out of view.
    for (const [key, bets] of betsByCell) {
      if (keep.has(key)) continue;
      const bet = bets[0]!;
      if (bet.windowEnd < visibleFrom || bet.windowStart > now + this.#spanMs()) continue;
      keep.add(key);
      const cell: OfferedCell = {
        key,
        col: bet.col,
        row: bet.row,
        windowStart: bet.windowStart,
        windowEnd: bet.windowEnd,
        bandLowCents: bet.bandLowCents,
        bandHighCents: bet.bandHighCents,
        multiplierHundredths: Math.round(bet.multiplier * 100),
      };
      this.#renderCell(cell, undefined, bets, true);
    }
    for (const [key, view] of this.#cells) {
      if (keep.has(key)) continue;
      view.button.remove();
      this.#cells.delete(key);
    }
  }

  /** `offeredHundredths` undefined: a locked cell shown only for the bets in it. */
  #renderCell(cell: OfferedCell, offeredHundredths: number | undefined, bets: Bet[] | undefined, disabled: boolean): void {
    let view = this.#cells.get(cell.key);
    if (!view) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "cell";
      button.dataset.key = cell.key;
      button.dataset.col = String(cell.col);
      button.dataset.row = String(cell.row);
      view = { button, place: cellPlace(cell), rendered: "", placedFor: "" };
      this.#cells.set(cell.key, view);
      this.#layer.append(button);
    }
    const status = bets ? cellStatus(bets) : undefined;
    const pending = this.#pending.has(cell.key);
    const text = bets ? cellBetText(bets) : formatMultiplier(offeredHundredths!);
    const b = view.button;
    const layout = `${this.#originMs}|${this.#originCents}|${this.#pxPerMs}|${this.#pxPerCent}`;
    if (view.placedFor !== layout) {
      view.placedFor = layout;
      const left = (cell.windowStart - this.#originMs) * this.#pxPerMs;
      const top = (this.#originCents - cell.bandHighCents) * this.#pxPerCent;
      b.style.left = `${left.toFixed(2)}px`;
      b.style.top = `${top.toFixed(2)}px`;
      b.style.width = `${(this.market.columnMs * this.#pxPerMs).toFixed(2)}px`;
      b.style.height = `${(this.market.rowCents * this.#pxPerCent).toFixed(2)}px`;
    }
    const signature = `${offeredHundredths}|${status}|${text}|${disabled}|${pending}`;
    if (view.rendered === signature) return;
    view.rendered = signature;
    const spoken = text.replace("\n", " at ");
    if (offeredHundredths !== undefined) {
      b.dataset.multiplier = (offeredHundredths / 100).toFixed(2);
      b.setAttribute("aria-label", `${view.place}, pays ${formatMultiplier(offeredHundredths)}${bets ? `; your bet: ${spoken}` : ""}`);
    } else {
      delete b.dataset.multiplier;
      b.setAttribute("aria-label", `Your bet: ${spoken}; ${view.place.replace(/^Price /, "price ")}`);
    }
    if (status) b.dataset.betStatus = status;
    else delete b.dataset.betStatus;
    if (pending) b.dataset.pending = "true";
    else delete b.dataset.pending;
    b.disabled = disabled;
    b.textContent = text;
  }

  #drawLine(now: number, centreCents: number): void {
    const g = this.canvas.getContext("2d");
    if (!g) return;
    const ratio = window.devicePixelRatio || 1;
    const w = this.#width;
    const h = this.#height;
    const market = this.market;
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const x = (t: number) => (t - now) * this.#pxPerMs + PAST_COLUMNS * market.columnMs * this.#pxPerMs;
    const y = (cents: number) => h / 2 - (cents - centreCents) * this.#pxPerCent;

    // Column boundaries with their start times, and the row lines.
    g.lineWidth = 1;
    g.strokeStyle = "rgba(255,255,255,0.06)";
    g.fillStyle = "rgba(154,164,178,0.8)";
    g.font = "11px system-ui, sans-serif";
    const firstCol = Math.floor((now - PAST_COLUMNS * market.columnMs) / market.columnMs);
    for (let col = firstCol; col <= firstCol + PAST_COLUMNS + GRID_COLUMNS + 2; col++) {
      const cx = Math.round(x(col * market.columnMs)) + 0.5;
      g.beginPath();
      g.moveTo(cx, 0);
      g.lineTo(cx, h);
      g.stroke();
      if (col % 3 === 0) g.fillText(formatClock(col * market.columnMs), cx + 3, h - 4);
    }
    const topRow = Math.floor((centreCents + (h / 2) / this.#pxPerCent) / market.rowCents);
    for (let row = topRow; row >= topRow - GRID_ROWS - 1; row--) {
      const cy = Math.round(y(row * market.rowCents)) + 0.5;
      g.beginPath();
      g.moveTo(0, cy);
      g.lineTo(w, cy);
      g.stroke();
    }

    // Now, and where taps stop being accepted.
    g.strokeStyle = "rgba(255,255,255,0.35)";
    g.beginPath();
    g.moveTo(Math.round(x(now)) + 0.5, 0);
    g.lineTo(Math.round(x(now)) + 0.5, h);
    g.stroke();
    g.setLineDash([4, 4]);
    g.strokeStyle = "rgba(255,196,0,0.5)";
    const lockX = Math.round(x(now + market.lockMs + LOCK_MARGIN_MS)) + 0.5;
    g.beginPath();
    g.moveTo(lockX, 0);
    g.lineTo(lockX, h);
    g.stroke();
    g.setLineDash([]);

    // The index line.
    const ticks = market.ticks;
    if (ticks.length === 0) return;
    const from = now - (PAST_COLUMNS + 1) * market.columnMs;
    let i = ticks.length - 1;
    while (i > 0 && ticks[i - 1]!.t >= from) i--;
    g.strokeStyle = "#4fc3f7";
    g.lineWidth = 2;
    g.beginPath();
    g.moveTo(x(ticks[i]!.t), y(ticks[i]!.priceCents));
    for (let j = i + 1; j < ticks.length; j++) g.lineTo(x(ticks[j]!.t), y(ticks[j]!.priceCents));
    const last = ticks[ticks.length - 1]!;
    g.lineTo(x(now), y(last.priceCents));
    g.stroke();
    g.fillStyle = "#4fc3f7";
    g.beginPath();
    g.arc(x(now), y(last.priceCents), 4, 0, Math.PI * 2);
    g.fill();
    const label = formatCents(last.priceCents);
    g.font = "bold 12px system-ui, sans-serif";
    const lw = g.measureText(label).width + 8;
    g.fillStyle = "#4fc3f7";
    g.fillRect(x(now) - lw - 8, y(last.priceCents) - 9, lw, 18);
    g.fillStyle = "#0b1020";
    g.fillText(label, x(now) - lw - 4, y(last.priceCents) + 4);
  }
}

export { cellKey };
