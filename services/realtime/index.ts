import type { InstallModule } from "../types.ts";
import { RealtimeHub } from "./hub.ts";

export interface RealtimeService {
  /** The crossws hooks that handlers/ws.ts hands to h3. */
  readonly hooks: RealtimeHub["hooks"];
  /** Open connections. */
  readonly clients: number;
  /** Open connections on the framed-once fast path (wire.ts). */
  readonly rawFrameClients: number;
  /** Sends one serialised frame to every connection (written at the end of the turn, with any others queued). */
  broadcast(data: Buffer): void;
}

declare module "../types.ts" {
  interface Services {
    realtime: RealtimeService;
  }
}

export const installRealtime: InstallModule = (ctx) => {
  const hub = new RealtimeHub(ctx);
  ctx.services.realtime = hub;
  // drain closes the connections before HTTP shutdown waits for them; stop is the safety net.
  return { start: () => hub.start(), drain: () => hub.stop(), stop: () => hub.stop(0) };
};
