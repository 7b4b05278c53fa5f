import type { AppContext } from "../types.ts";

/** The bus channel of private player events; the hub (hub.ts) delivers each to that player's connections. */
export const PLAYER_EVENTS_CHANNEL = "user";

/**
 * Publishes one private event of API.md § WebSocket (`bet`, `balance`) for a player. The address is
 * written first, so the hub can skip players that are not connected without parsing the message.
 * Never throws: a lost event costs a notification, not data.
 */
export function publishPlayerEvent(ctx: Pick<AppContext, "bus" | "log">, address: string, event: object, logContext?: object): void {
  ctx.bus.publish(PLAYER_EVENTS_CHANNEL, JSON.stringify({ address, event })).catch((error: unknown) => {
    ctx.log.warn({ ...logContext, err: error }, "could not publish a player event");
  });
}
