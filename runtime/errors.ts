import { HTTPError } from "h3";
import { unavailableDependency } from "../storage/unavailable.ts";

/** The stable error codes of API.md; a client may switch on them. */
export type ErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "unsupported_media_type"
  | "internal_error"
  | "overloaded"
  | "shutting_down"
  | "unavailable"
  | (string & {});

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** An HTTP error carrying a stable code; the error middleware renders it as API.md's shape. */
export function apiError(
  status: number,
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
  headers?: Record<string, string>,
): HTTPError {
  return new HTTPError({ status, message, data: { code, details }, headers });
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  503: "overloaded",
};

/** Seconds a client should wait before retrying a request refused because a dependency failed. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/**
 * Maps anything thrown to the public body; unexpected errors say nothing about their insides. A
 * dependency fault (disk full, an I/O error, Redis down or slower than its timeout) anywhere in the
 * request is 503 `unavailable` with `Retry-After` (API.md § Conventions), never a 500: the write
 * it interrupted was rolled back whole, so no money moved and the same request may be retried.
 */
export function toErrorBody(error: HTTPError): { status: number; body: ErrorBody; headers?: Record<string, string> } {
  const status = error.status >= 400 && error.status <= 599 ? error.status : 500;
  const data = (error.data ?? {}) as { code?: string; details?: Record<string, unknown> };
  if (status >= 500 && !data.code) {
    const dependency = unavailableDependency(error.cause ?? error);
    if (dependency) {
      return {
        status: 503,
        body: { error: { code: "unavailable", message: `a service this request needs is unavailable (${dependency}); try again shortly`, details: { dependency } } },
        headers: { "retry-after": String(UNAVAILABLE_RETRY_AFTER_SECONDS) },
      };
    }
    return { status, body: { error: { code: "internal_error", message: "internal error" } } };
  }
  const code = data.code ?? CODE_BY_STATUS[status] ?? "error";
  const body: ErrorBody = { error: { code, message: error.message || code } };
  if (data.details !== undefined) body.error.details = data.details;
  return { status, body };
}
