import { FakeExchange, type FakeExchangeOptions, type FakeProtocol } from "./fake-exchange.ts";

/**
 * Coinbase Exchange feed: the client must `subscribe` (product_ids + channels); the server answers
 * with a `subscriptions` message, then sends `ticker` frames per trade and a `heartbeat` per second.
 * A malformed subscribe gets an `error` message, as the real feed does.
 */
export const coinbaseProtocol: FakeProtocol = {
  onConnect() {},
  onMessage(client, text) {
    const msg = JSON.parse(text) as { type?: string; product_ids?: string[]; channels?: unknown[] };
    if (msg.type !== "subscribe" || !msg.product_ids?.includes("BTC-USD") || !Array.isArray(msg.channels)) {
      client.send(JSON.stringify({ type: "error", message: "Failed to subscribe", reason: "bad subscribe message" }));
      return;
    }
    client.subscribed = true;
    const names = msg.channels.map((c) => (typeof c === "string" ? c : (c as { name: string }).name));
    client.send(JSON.stringify({ type: "subscriptions", channels: names.map((name) => ({ name, product_ids: ["BTC-USD"] })) }));
  },
  priceFrames(_client, price, seq) {
    const p = Number(price);
    return [
      JSON.stringify({
        type: "ticker",
        sequence: 90_000_000_000 + seq,
        product_id: "BTC-USD",
        price,
        open_24h: "95000.00",
        volume_24h: "12345.67890123",
        low_24h: "94000.00",
        high_24h: "99000.00",
        volume_30d: "345678.12345678",
        best_bid: (p - 0.01).toFixed(2),
        best_bid_size: "0.50000000",
        best_ask: price,
        best_ask_size: "0.25000000",
        side: "buy",
        time: new Date().toISOString(),
        trade_id: 700_000_000 + seq,
        last_size: "0.00100000",
      }),
    ];
  },
  heartbeatFrame(_client, seq) {
    return JSON.stringify({ type: "heartbeat", last_trade_id: 700_000_000 + seq, product_id: "BTC-USD", sequence: 90_000_000_000 + seq, time: new Date().toISOString() });
  },
};

export function fakeCoinbase(options: FakeExchangeOptions = { heartbeatMs: 1000 }): FakeExchange {
  return new FakeExchange(coinbaseProtocol, options);
}
