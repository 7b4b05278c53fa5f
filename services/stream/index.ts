import type { InstallModule } from "../types.ts";
import { StreamPublisher } from "./publisher.ts";
import { StreamMirror } from "./mirror.ts";

export type { MarketStream, MarketTerms, StreamState } from "./types.ts";

/** The core's side (ROLE=all|core): numbers and publishes every tick; installed after price and pricing. */
export const installStreamPublisher: InstallModule = (ctx) => {
  const publisher = new StreamPublisher(ctx);
  ctx.services.stream = publisher;
  return { start: () => publisher.start(), stop: () => publisher.stop() };
};

/**
 * An edge's side (ROLE=edge): the market from the bus, in place of the price and pricing modules
 * (`services.price`, `services.pricing`) and as the hub's stream.
 */
export const installStreamMirror: InstallModule = (ctx) => {
  const mirror = new StreamMirror(ctx);
  ctx.services.stream = mirror;
  ctx.services.price = mirror.price;
  ctx.services.pricing = mirror.pricing;
  ctx.readyChecks.set("core", () => mirror.readiness());
  ctx.readyChecks.set("price", () => (mirror.price.circuit() === "closed" ? "ok" : mirror.price.latest() ? "price stale (circuit open at the core)" : "no price yet"));
  return { start: () => mirror.start(), stop: () => mirror.stop() };
};
