import { FakeExchange, type FakeExchangeOptions, type FakeProtocol } from "./fake-exchange.ts";

/**
 * Kraken spot v2: `status` on connect, subscribe ack for `ticker` BTC/USD, a snapshot then updates
 * (prices as JSON numbers), `heartbeat` each second, `{"method":"ping"}` answered with `pong`.
 */
function tickerFrame(type: "snapshot" | "update", last: number, atMs: number): string {
  return JSON.stringify({
    channel: "ticker",
    type,
    data: [
      {
        symbol: "BTC/USD",
        bid: Number((last - 0.1).toFixed(1)),
        bid_qty: 0.52,
        ask: last,
        ask_qty: 1.25,
        last,
        volume: 1234.5678,
        vwap: 96543.2,
        low: 94000.1,
        high: 99000.9,
        change: 1200.5,
        change_pct: 1.26,
        timestamp: new Date(atMs).toISOString(),
      },
    ],
  });
}

export function krakenProtocol(): FakeProtocol {
  let lastPrice: number | undefined;
  let lastAt = 0;
  return {
    onConnect(client) {
      client.send(
        JSON.stringify({
          channel: "status",
          type: "update",
          data: [{ api_version: "v2", connection_id: 12393906104898154338n.toString(), system: "online", version: "2.0.10" }],
        }).replace(/"connection_id":"(\d+)"/, '"connection_id":$1'),
      );
    },
    onMessage(client, text) {
      const msg = JSON.parse(text) as { method?: string; params?: { channel?: string; symbol?: string[] }; req_id?: number };
      const stamp = new Date().toISOString();
      if (msg.method === "ping") {
        client.send(JSON.stringify({ method: "pong", req_id: msg.req_id, time_in: stamp, time_out: stamp }));
        return;
      }
      if (msg.method === "subscribe" && msg.params?.channel === "ticker" && msg.params.symbol?.includes("BTC/USD")) {
        client.subscribed = true;
        client.send(
          JSON.stringify({
            method: "subscribe",
            result: { channel: "ticker", event_trigger: "trades", snapshot: true, symbol: "BTC/USD" },
            success: true,
            time_in: stamp,
            time_out: stamp,
            req_id: msg.req_id,
          }),
        );
        // The snapshot replays the last trade with its own (possibly old) time.
        if (lastPrice !== undefined) client.send(tickerFrame("snapshot", lastPrice, lastAt));
        return;
      }
      client.send(JSON.stringify({ error: "Unsupported request", method: msg.method, success: false, time_in: stamp, time_out: stamp }));
    },
    priceFrames(_client, price) {
      lastPrice = Number(price);
      lastAt = Date.now();
      return [tickerFrame("update", lastPrice, lastAt)];
    },
    heartbeatFrame() {
      return JSON.stringify({ channel: "heartbeat" });
    },
  };
}

export function fakeKraken(options: FakeExchangeOptions = { heartbeatMs: 1000 }): FakeExchange {
  return new FakeExchange(krakenProtocol(), options);
}
