import { timingSafeEqual } from "node:crypto";
import type { H3Event } from "h3";
import { apiError } from "../../runtime/errors.ts";
import { useApp } from "../types.ts";
import { bearerToken } from "./require-user.ts";

/**
 * Admin routes take `Authorization: Bearer <ADMIN_TOKEN>`. Without ADMIN_TOKEN configured they do
 * not exist (404), as API.md says; a wrong token is 401.
 */
export function requireAdmin(event: H3Event): void {
  const expected = useApp(event).config.ADMIN_TOKEN;
  if (!expected) throw apiError(404, "not_found", "no such route");
  const given = bearerToken(event) ?? "";
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw apiError(401, "unauthorized", "admin token required");
}
