import { describe, expect, it } from "vitest";
import { parseBinance } from "../domain/price/binance.ts";
import { parseCoinbase } from "../domain/price/coinbase.ts";
import { parseKraken } from "../domain/price/kraken.ts";
import type { ExchangeMessage } from "../domain/price/exchange-message.ts";
import { exchangeFrames, type Exchange } from "./fixtures/exchanges/frames.ts";

/**
 * Every recorded frame (tests/fixtures/exchanges, with its documentation source) is classified as
 * the exchange means it: prices with their exchange event time, acks, refusals, errors, status,
 * shutdown notices, heartbeats, and malformed input as invalid — never as a price.
 */
const parsers: Record<Exchange, (text: string) => ExchangeMessage> = { binance: parseBinance, coinbase: parseCoinbase, kraken: parseKraken };

describe.each(["binance", "coinbase", "kraken"] as const)("recorded %s frames", (exchange) => {
  const frames = exchangeFrames(exchange);

  it("has at least 15 frames, each with its source, covering every kind the adapter handles", () => {
    expect(frames.length).toBeGreaterThanOrEqual(15);
    for (const f of frames) expect(f.source).toMatch(/^https:\/\/docs?\.|^https:\/\/developers\./);
    const kinds = new Set(frames.map((f) => f.expect.kind));
    for (const kind of ["price", "alive", "subscribed", "refused", "invalid"]) expect(kinds).toContain(kind);
    expect(kinds.has("status") || kinds.has("shutdown")).toBe(true);
    expect(new Set(frames.map((f) => f.name)).size).toBe(frames.length);
  });

  it.each(frames.map((f) => [f.name, f] as const))("%s", (_name, f) => {
    const message = parsers[exchange](f.frame);
    expect(message).toMatchObject(f.expect);
    if (message.kind === "price") expect(Number.isSafeInteger(message.priceCents) && message.priceCents > 0).toBe(true);
  });
});
