import { HTTPError } from "h3";

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

/** Maps anything thrown to the public body; unexpected errors say nothing about their insides. */
export function toErrorBody(error: HTTPError): { status: number; body: ErrorBody } {
  const status = error.status >= 400 && error.status <= 599 ? error.status : 500;
  const data = (error.data ?? {}) as { code?: string; details?: Record<string, unknown> };
  if (status >= 500 && !data.code) {
    return { status, body: { error: { code: "internal_error", message: "internal error" } } };
  }
  const code = data.code ?? CODE_BY_STATUS[status] ?? "error";
  const body: ErrorBody = { error: { code, message: error.message || code } };
  if (data.details !== undefined) body.error.details = data.details;
  return { status, body };
}
