import { FakeExchange, type FakeExchangeOptions, type FakeProtocol } from "./fake-exchange.ts";

/**
 * Binance spot: `/ws/btcusdt@trade` streams trades at once; the bare `/ws` endpoint waits for a
 * SUBSCRIBE and answers `{"result":null,"id":…}`. Trade frames are in the documented format
 * (e, E, s, t, p, q, T, m, M). Keep-alive is by protocol ping frames.
 */
export const binanceProtocol: FakeProtocol = {
  onConnect(client) {
    if (client.path.toLowerCase().includes("btcusdt@trade")) client.subscribed = true;
  },
  onMessage(client, text) {
    const msg = JSON.parse(text) as { method?: string; params?: string[]; id?: number };
    if (msg.method === "SUBSCRIBE" && msg.params?.includes("btcusdt@trade")) {
      client.subscribed = true;
      client.send(JSON.stringify({ result: null, id: msg.id }));
    }
  },
  priceFrames(client, price, seq) {
    const now = Date.now();
    const trade = { e: "trade", E: now, s: "BTCUSDT", t: 5_000_000_000 + seq, p: price, q: "0.00150000", T: now - 1, m: seq % 2 === 0, M: true };
    return [JSON.stringify(client.path.startsWith("/stream") ? { stream: "btcusdt@trade", data: trade } : trade)];
  },
};

export function fakeBinance(options: FakeExchangeOptions = { pingMs: 1000 }): FakeExchange {
  return new FakeExchange(binanceProtocol, options);
}
