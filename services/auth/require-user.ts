import type { H3Event } from "h3";
import { apiError } from "../../runtime/errors.ts";
import { useApp, type AppContext } from "../types.ts";
import type { Session } from "./sessions.ts";

declare module "h3" {
  interface H3EventContext {
    session?: Session;
    token?: string;
  }
}

/** Bearer token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(event: H3Event): string | undefined {
  const header = event.req.headers.get("authorization");
  if (!header) return undefined;
  const match = /^Bearer\s+(\S{1,512})$/i.exec(header);
  return match?.[1];
}

/** The signed-in player of a request; 401 `unauthorized` when the token is missing, unknown or expired. */
export async function requireUser(event: H3Event): Promise<Session> {
  if (event.context.session) return event.context.session;
  const token = bearerToken(event);
  const session = token ? await useApp(event).services.auth.sessions.authenticate(token) : null;
  if (!session || !token) throw apiError(401, "unauthorized", "sign in first: missing, unknown or expired token");
  event.context.session = session;
  event.context.token = token;
  return session;
}

/**
 * The session of a WebSocket upgrade request (API.md: `/ws?token=…`, or the Authorization header),
 * for use in crossws `upgrade` hooks. `undefined` when no token was offered (anonymous client),
 * null when a token was offered but is missing, revoked or expired (close with 4401).
 */
export async function authenticateUpgrade(ctx: AppContext, request: Request): Promise<Session | null | undefined> {
  let token: string | null | undefined = new URL(request.url).searchParams.get("token");
  if (!token) {
    const match = /^Bearer\s+(\S{1,512})$/i.exec(request.headers.get("authorization") ?? "");
    token = match?.[1];
  }
  if (!token) return undefined;
  return ctx.services.auth.sessions.authenticate(token);
}
