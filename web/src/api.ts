import type { ApiProblem } from "./refusals.ts";

/** The API's Bet and a bet's proof (API.md § Bets): the server's own types, erased from the bundle. */
export type { BetJson as Bet } from "../../services/bets/bet-json.ts";
export type { Proof } from "../../services/resolver/proof.ts";

export class ApiError extends Error implements ApiProblem {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Every request gives up after this long: the page must never hang on a tap. */
const REQUEST_TIMEOUT_MS = 10_000;

/** A JSON call to the API; an error answer (or no answer) throws ApiError with its stable code. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; token?: string | undefined } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError(0, "network", "the server could not be reached");
  }
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined;
  if (!res.ok) {
    const error = body?.error;
    throw new ApiError(res.status, error?.code ?? `http_${res.status}`, error?.message ?? `HTTP ${res.status}`, error?.details);
  }
  return body as T;
}
