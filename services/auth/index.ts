import type { InstallModule } from "../types.ts";
import { SessionManager } from "./sessions.ts";

export interface AuthService {
  sessions: SessionManager;
}

declare module "../types.ts" {
  interface Services {
    auth: AuthService;
  }
}

export const installAuth: InstallModule = (ctx) => {
  const sessions = new SessionManager({ kv: ctx.kv, bus: ctx.bus, ttlMs: ctx.config.SESSION_TTL_MS, now: ctx.now });
  ctx.services.auth = { sessions };
  return { stop: () => sessions.close() };
};
