import type { InstallModule } from "../types.ts";
import type { PriceService } from "./types.ts";
import { PriceFeed } from "./feed.ts";
import { ExchangeAdapter } from "./adapter.ts";
import { adapterTiming, EXCHANGES, exchangeProtocol, type ExchangeName } from "./exchanges.ts";
import { SyntheticSource } from "./synthetic.ts";

declare module "../types.ts" {
  interface Services {
    price: PriceService;
  }
}

/**
 * The price module: the configured sources (PRICE_SOURCES) feed the index; `manual` starts nothing
 * and only `price.ingest()` calls tick (deterministic tests and replays).
 */
export const installPrice: InstallModule = (ctx) => {
  const { config, log } = ctx;
  const feed = new PriceFeed(ctx);
  ctx.services.price = feed;
  ctx.readyChecks.set("price", () => feed.readiness());

  const runners: { name: string; start(): void; stop(): void }[] = [];
  for (const name of config.PRICE_SOURCES) {
    if (name === "manual") {
      feed.register("manual", { connection: false, throttled: false });
    } else if (name === "synthetic") {
      const source = feed.register(name, { connection: false, throttled: false });
      const synthetic = new SyntheticSource(
        {
          seed: config.SYNTHETIC_SEED,
          startCents: config.SYNTHETIC_START_CENTS,
          volAnnualBp: config.SYNTHETIC_VOL_ANNUAL_BP,
          tickMs: config.SYNTHETIC_TICK_MS,
          now: ctx.now,
        },
        source,
      );
      runners.push({ name, start: () => synthetic.start(), stop: () => synthetic.stop() });
    } else if ((EXCHANGES as readonly string[]).includes(name)) {
      const source = feed.register(name, { connection: true, throttled: true });
      const adapter = new ExchangeAdapter(exchangeProtocol(name as ExchangeName, config), source, log, ctx.now, adapterTiming(config));
      runners.push(adapter);
    }
  }

  return {
    async start() {
      // The threshold the settlement rule uses from now on (services/price/stale-thresholds.ts),
      // recorded before any window is decided. If it cannot be written, the recorded one stays in
      // force for settlement and proofs alike (they never disagree), and this says so.
      await ctx.queue.run("price.recordStaleThreshold", ctx.now(), config.PRICE_STALE_MS).catch((error: unknown) => {
        log.error({ err: error, staleMs: config.PRICE_STALE_MS }, "could not record PRICE_STALE_MS; settlement keeps the recorded threshold");
      });
      feed.startMonitor();
      for (const runner of runners) runner.start();
      const described = config.PRICE_SOURCES.map((name) =>
        EXCHANGES.includes(name as ExchangeName) ? `${name} (${exchangeProtocol(name as ExchangeName, config).url})` : name,
      );
      log.info({ sources: described }, `price sources: ${described.join(", ")}${config.PRICE_SOURCES.includes("synthetic") ? " — SYNTHETIC prices, not a real market" : ""}`);
    },
    stop() {
      for (const runner of runners) runner.stop();
      feed.stop();
    },
  };
};
