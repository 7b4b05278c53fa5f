import type { Bet } from "./api.ts";
import { cellKey } from "./market.ts";
import { formatBand, formatClock, formatMicroUsd, formatMultiplier } from "./format.ts";

/** Bets kept in the page (the newest; older ones stay on the server). */
const BETS_KEPT_MAX = 300;
/** Settled bets listed under History. */
const HISTORY_SHOWN_MAX = 50;

/** The player's bets: from `GET /api/bets`, the answer of each placement and the WebSocket `bet` events. */
export class BetBook {
  readonly #byId = new Map<string, Bet>();
  version = 0;

  upsert(bet: Bet): void {
    const known = this.#byId.get(bet.id);
    // A settled bet never goes back to open (events may arrive after the placement's answer).
    if (known && known.status !== "open" && bet.status === "open") return;
    this.#byId.set(bet.id, bet);
    if (this.#byId.size > BETS_KEPT_MAX) {
      const oldest = [...this.#byId.values()].sort((a, b) => a.placedAt - b.placedAt)[0]!;
      this.#byId.delete(oldest.id);
    }
    this.version++;
  }

  clear(): void {
    this.#byId.clear();
    this.version++;
  }

  all(): Bet[] {
    return [...this.#byId.values()];
  }

  /** Bets per cell, for the grid. */
  byCell(): Map<string, Bet[]> {
    const map = new Map<string, Bet[]>();
    for (const bet of this.#byId.values()) {
      const key = cellKey(bet.col, bet.row);
      const list = map.get(key);
      if (list) list.push(bet);
      else map.set(key, [bet]);
    }
    return map;
  }
}

/** The status a cell shows for the player's bets in it: open while any is open, else the latest outcome. */
export function cellStatus(bets: Bet[]): Bet["status"] {
  if (bets.some((b) => b.status === "open")) return "open";
  return [...bets].sort((a, b) => (b.resolvedAt ?? 0) - (a.resolvedAt ?? 0))[0]!.status;
}

/** What a cell holding bets reads: stake and locked multiplier (two lines), then "+$x", "−$x" or "refunded". */
export function cellBetText(bets: Bet[]): string {
  const status = cellStatus(bets);
  const stake = bets.reduce((sum, b) => sum + b.stakeMicroUsd, 0);
  if (status === "won") return `+${formatMicroUsd(bets.filter((b) => b.status === "won").reduce((s, b) => s + b.payoutMicroUsd, 0))}`;
  if (status === "lost") return `−${formatMicroUsd(stake)}`;
  if (status === "void") return "refunded";
  const multiplier = bets.length === 1 ? formatMultiplier(Math.round(bets[0]!.multiplier * 100)) : `${bets.length} bets`;
  return `${formatMicroUsd(stake)}\n${multiplier}`;
}

function betSentence(bet: Bet): string {
  const where = `${formatBand(bet.bandLowCents, bet.bandHighCents)}, ${formatClock(bet.windowStart)}–${formatClock(bet.windowEnd)}`;
  const terms = `${formatMicroUsd(bet.stakeMicroUsd)} at ${formatMultiplier(Math.round(bet.multiplier * 100))}`;
  switch (bet.status) {
    case "open":
      return `${terms} on ${where}`;
    case "won":
      return `Won ${formatMicroUsd(bet.payoutMicroUsd)}: ${terms} on ${where}`;
    case "lost":
      return `Lost ${formatMicroUsd(bet.stakeMicroUsd)}: ${terms} on ${where}`;
    case "void":
      return `Refunded (void): ${terms} on ${where}`;
  }
}

/** Renders the open bets and the history; `onProof` opens a settled bet's proof. */
export function renderBetLists(book: BetBook, openList: HTMLElement, historyList: HTMLElement, onProof: (bet: Bet) => void): void {
  const bets = book.all();
  const open = bets.filter((b) => b.status === "open").sort((a, b) => a.windowStart - b.windowStart);
  const settled = bets
    .filter((b) => b.status !== "open")
    .sort((a, b) => (b.resolvedAt ?? b.placedAt) - (a.resolvedAt ?? a.placedAt))
    .slice(0, HISTORY_SHOWN_MAX);
  openList.replaceChildren(...(open.length ? open.map((b) => betItem(b, onProof)) : [emptyItem("No open bets.")]));
  historyList.replaceChildren(...(settled.length ? settled.map((b) => betItem(b, onProof)) : [emptyItem("Nothing settled yet.")]));
}

function betItem(bet: Bet, onProof: (bet: Bet) => void): HTMLLIElement {
  const li = document.createElement("li");
  li.dataset.betId = bet.id;
  li.dataset.status = bet.status;
  const text = document.createElement("span");
  text.textContent = betSentence(bet);
  li.append(text);
  if (bet.status !== "open") {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Proof";
    button.addEventListener("click", () => onProof(bet));
    li.append(button);
  }
  return li;
}

function emptyItem(text: string): HTMLLIElement {
  const li = document.createElement("li");
  li.className = "empty";
  li.textContent = text;
  return li;
}
