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
  return Buffer.concat(chunks).toString("utf8");
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
    const onEnd = () => done(undefined, chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"));
    // The client went away (or broke the stream) mid-body: its request fails, not the server.
    const onCutShort = () => done(cutShort());
    req.on("data", onData).on("end", onEnd).on("error", onCutShort).on("close", onCutShort);
  });
}

function cutShort() {
  return apiError(400, "invalid_request", "the request body was cut short");
}

function tooLarge(limitBytes: number) {
  return apiError(413, "payload_too_large", `request body exceeds ${limitBytes} bytes`, { limitBytes });
}

/** Parses JSON (400 on malformed) and validates it with a zod schema (400 naming the fields). */
export async function readJson<S extends z.ZodType>(event: H3Event, schema: S): Promise<z.output<S>> {
  const limitBytes = (event.context.bodyLimitBytes as number | undefined) ?? 16_384;
  const text = await readBodyText(event, limitBytes);
  let data: unknown;
  try {
    data = text === "" ? undefined : JSON.parse(text);
  } catch {
    throw apiError(400, "invalid_request", "body is not valid JSON");
  }
  return validate(schema, data, "body");
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
