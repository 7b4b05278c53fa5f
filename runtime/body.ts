import { isUtf8 } from "node:buffer";
import type { H3Event } from "h3";
import type { z } from "zod";
import { apiError } from "./errors.ts";

/** Reads the raw body, refusing (413) more than `limitBytes` whether or not content-length says so. */
export async function readBodyText(event: H3Event, limitBytes: number): Promise<string> {
  const declared = Number(event.req.headers.get("content-length") ?? "0");
  if (declared > limitBytes) throw tooLarge(limitBytes);
  // On Node, read the IncomingMessage directly: the web-stream adapter behind `req.body` costs
  // ~40 µs per request, a noticeable share of a bet placement (scripts/bench-bets.ts profile).
  const nodeReq = (event.req as { runtime?: { node?: { req?: import("node:http").IncomingMessage } } }).runtime?.node?.req;
  if (nodeReq && !nodeReq.readableDidRead) return readNodeBody(nodeReq, limitBytes);
  const body = event.req.body;
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limitBytes);
    }
    chunks.push(value);
  }
  return utf8(Buffer.concat(chunks));
}

/** Events rather than `for await`: the async iterator costs several objects and promises per request. */
function readNodeBody(req: import("node:http").IncomingMessage, limitBytes: number): Promise<string> {
  // Closed while the handler awaited something else: no event will come any more.
  if (req.destroyed) return Promise.reject(cutShort());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (error: unknown, text?: string) => {
      req.off("data", onData).off("end", onEnd).off("error", onCutShort).off("close", onCutShort);
      if (error) reject(error);
      else resolve(text!);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      done(tooLarge(limitBytes));
      req.resume(); // drain the rest without keeping it
    };
    const onEnd = () => {
      try {
        done(undefined, utf8(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      } catch (error) {
        done(error);
      }
    };
    // The client went away (or broke the stream) mid-body: its request fails, not the server.
    const onCutShort = () => done(cutShort());
    req.on("data", onData).on("end", onEnd).on("error", onCutShort).on("close", onCutShort);
  });
}

/**
 * The body as text, refusing bytes that are not UTF-8 (RFC 8259 §8.1): decoding would turn them
 * into U+FFFD, so two different byte strings (say, two idempotency keys) would read the same.
 */
function utf8(bytes: Buffer): string {
  if (!isUtf8(bytes)) throw apiError(400, "invalid_request", "body is not valid UTF-8");
  return bytes.toString("utf8");
}

function cutShort() {
  return apiError(400, "invalid_request", "the request body was cut short");
}

function tooLarge(limitBytes: number) {
  return apiError(413, "payload_too_large", `request body exceeds ${limitBytes} bytes`, { limitBytes });
}

/**
 * Parses a JSON body and validates it with a zod schema. In order: a declared content type other
 * than JSON → 415 (before reading); the body over the limit → 413; a non-empty body without any
 * content type → 415; bytes that are not UTF-8, malformed JSON or a string holding a lone UTF-16
 * surrogate (`"\ud800"`) → 400; then the schema (400 naming the fields).
 */
export async function readJson<S extends z.ZodType>(event: H3Event, schema: S): Promise<z.output<S>> {
  return validate(schema, await readJsonValue(event), "body");
}

/** `readJson` up to the schema: the parsed JSON value (undefined for an empty body). */
export async function readJsonValue(event: H3Event): Promise<unknown> {
  const limitBytes = (event.context.bodyLimitBytes as number | undefined) ?? 16_384;
  const type = event.req.headers.get("content-type");
  if (type !== null && !isJsonMediaType(type)) throw unsupportedMediaType(type);
  const text = await readBodyText(event, limitBytes);
  if (type === null && text !== "") throw unsupportedMediaType(null);
  let data: unknown;
  try {
    data = text === "" ? undefined : JSON.parse(text);
  } catch {
    throw apiError(400, "invalid_request", "body is not valid JSON");
  }
  // Only a \u escape can make a lone surrogate out of valid UTF-8: most bodies skip the walk.
  if (text.includes("\\u")) {
    const path = illFormedStringPath(data);
    if (path !== undefined) {
      throw apiError(400, "invalid_request", "strings must be well-formed Unicode", { fields: { [path || "body"]: "contains a lone UTF-16 surrogate" } });
    }
  }
  return data;
}

/** `application/json`, optionally with parameters; a charset, if given, must be UTF-8 (RFC 8259 §8.1). */
export function isJsonMediaType(header: string): boolean {
  const [essence, ...params] = header.split(";");
  if (essence!.trim().toLowerCase() !== "application/json") return false;
  for (const param of params) {
    const [name, value = ""] = param.split("=");
    if (name!.trim().toLowerCase() !== "charset") continue;
    if (!/^"?utf-8"?$/i.test(value.trim())) return false;
  }
  return true;
}

function unsupportedMediaType(type: string | null) {
  return apiError(415, "unsupported_media_type", "the body must be JSON with content-type: application/json", { contentType: type });
}

/** In unicode mode a pair is one code point, so only an unpaired surrogate is in category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

/** Most values looked at for lone surrogates: a 16 KiB body holds far fewer. */
const WALK_VALUES_MAX = 100_000;

/**
 * The path (`a.b.0`, "" for the root) of the first string, or object key, that is not well-formed
 * UTF-16, or undefined when all are. Iterative, so a deeply nested body cannot exhaust the stack.
 */
export function illFormedStringPath(root: unknown): string | undefined {
  const stack: [unknown, string][] = [[root, ""]];
  for (let seen = 0; stack.length > 0 && seen < WALK_VALUES_MAX; seen++) {
    const [value, path] = stack.pop()!;
    if (typeof value === "string") {
      if (LONE_SURROGATE.test(value)) return path;
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push([item, path ? `${path}.${i}` : String(i)]));
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        const at = path ? `${path}.${key}` : key;
        if (LONE_SURROGATE.test(key)) return path || "body";
        stack.push([item, at]);
      }
    }
  }
  return undefined;
}

/** Validates a value (query, params, body) with a zod schema; failures become 400 invalid_request. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, where: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const fields: Record<string, string> = {};
  for (const issue of result.error.issues.slice(0, 20)) {
    const path = issue.path.length > 0 ? issue.path.join(".") : where;
    fields[path] ??= issue.message;
  }
  throw apiError(400, "invalid_request", `invalid ${where}`, { fields });
}
