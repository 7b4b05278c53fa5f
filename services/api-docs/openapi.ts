import { z } from "zod";
import { errorsOf } from "./errors.ts";
import { errorBody } from "./responses.ts";
import { API_ROUTES, type ErrorDoc, type ResponseDoc, type RouteDoc } from "./routes.ts";
import { WS_SCHEMAS } from "./ws-messages.ts";

type Json = Record<string, unknown>;

/** The id of the error body's component (responses.ts). */
const ERROR_ID = (z.globalRegistry.get(errorBody) as { id: string }).id;

export interface OpenApiDocument {
  openapi: "3.1.0";
  info: Json;
  servers: Json[];
  tags: Json[];
  security: Json[];
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
}

const COMPONENTS = "#/components/schemas/";
const SCHEMAS_PER_DOCUMENT_MAX = 500;
const REFS_DEPTH_MAX = 32;

/**
 * zod → JSON Schema 2020-12 (OpenAPI 3.1's dialect). Every schema with a `meta({ id })` is converted
 * once, in one pass over zod's registry (converting each answer on its own walked the shared ones
 * again and again: several times slower), and becomes `components.schemas.<id>`; an answer with an
 * id is a `$ref` to it. Request schemas (input side: defaults optional, coercions as their result
 * type) are converted one by one.
 */
class SchemaSink {
  readonly #registry: Record<string, Json>;
  /** The components the document references, filled as it is built. */
  readonly components: Record<string, Json> = {};

  constructor() {
    const all = z.toJSONSchema(z.globalRegistry, { target: "draft-2020-12", io: "output", unrepresentable: "any", uri: (id) => COMPONENTS + id });
    this.#registry = {};
    for (const [id, schema] of Object.entries(all.schemas)) {
      const { $schema: _dialect, $id: _id, ...rest } = schema as Json;
      this.#registry[id] = rest;
    }
  }

  /** A `$ref` to the component of an answer schema with an id; other schemas are converted in place. */
  output(schema: z.ZodType): Json {
    const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id;
    if (!id) return this.convert(schema, "output");
    this.use(id);
    return { $ref: COMPONENTS + id };
  }

  /** The component `id` as JSON (it is added to the document with every component it references). */
  use(id: string, depth = 0): Json {
    const schema = this.#registry[id];
    if (!schema) throw new Error(`no schema with id "${id}" in zod's registry`);
    if (this.components[id]) return schema;
    if (depth > REFS_DEPTH_MAX) throw new Error(`schema references nested deeper than ${REFS_DEPTH_MAX} at ${id}`);
    if (Object.keys(this.components).length >= SCHEMAS_PER_DOCUMENT_MAX) throw new Error("too many component schemas");
    this.components[id] = schema;
    for (const ref of JSON.stringify(schema).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) this.use(ref[1]!, depth + 1);
    return schema;
  }

  convert(schema: z.ZodType, io: "input" | "output"): Json {
    const json = z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }) as Json;
    const defs = (json.$defs ?? {}) as Record<string, Json>;
    delete json.$defs;
    delete json.$schema;
    for (const id of Object.keys(defs)) this.use(id);
    return rewriteRefs(json) as Json;
  }
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== "object") return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = key === "$ref" && typeof inner === "string" && inner.startsWith("#/$defs/") ? COMPONENTS + inner.slice("#/$defs/".length) : rewriteRefs(inner);
  }
  return out;
}

/** `/api/bets/:id` → `/api/bets/{id}`. */
export function openApiPath(route: string): string {
  return route.replace(/\*\*:(\w+)/g, "{$1}").replace(/:(\w+)/g, "{$1}");
}

const SECURITY: Record<RouteDoc["auth"], Json[]> = {
  public: [],
  player: [{ playerBearer: [] }],
  admin: [{ adminBearer: [] }],
};

function retryAfterHeader(): Json {
  return { "Retry-After": { description: "seconds to wait before retrying", schema: { type: "integer", minimum: 1 } } };
}

function responseObject(doc: ResponseDoc, sink: SchemaSink): Json {
  const response: Json = { description: doc.description };
  const content: Json = {};
  if (doc.schema) content["application/json"] = { schema: sink.output(doc.schema) };
  for (const type of doc.text ? [doc.text.contentType].flat() : []) content[type] = { schema: { type: "string" } };
  if (Object.keys(content).length > 0) response.content = content;
  if (doc.headers) {
    response.headers = Object.fromEntries(Object.entries(doc.headers).map(([name, description]) => [name, { description, schema: { type: "string" } }]));
  }
  return response;
}

/** The Error component with `code` narrowed to the codes of one status. */
function errorSchema(codes: readonly string[], sink: SchemaSink): Json {
  const schema = structuredClone(sink.use(ERROR_ID)) as { properties: { error: { properties: { code: Json } } } };
  schema.properties.error.properties.code = { ...schema.properties.error.properties.code, enum: [...codes] };
  return schema as unknown as Json;
}

function errorResponse(error: ErrorDoc, sink: SchemaSink): Json {
  const response: Json = {
    description: `${error.codes.map((c) => `\`${c}\``).join(", ")}: ${error.when}`,
    content: { "application/json": { schema: errorSchema(error.codes, sink) } },
  };
  if (error.retryAfter) response.headers = retryAfterHeader();
  return response;
}

/** A parameter object; the schema's description moves up to the parameter, where tools show it. */
function parameter(name: string, where: "path" | "query", required: boolean, schema: Json): Json {
  const { description, ...rest } = schema;
  const param: Json = { name, in: where, required, schema: rest };
  if (description) param.description = description;
  return param;
}

function parameters(route: RouteDoc, sink: SchemaSink): Json[] {
  const out: Json[] = [];
  for (const [name, schema] of Object.entries(route.params ?? {})) {
    out.push(parameter(name, "path", true, sink.convert(schema, "input")));
  }
  if (route.query) {
    const json = sink.convert(route.query, "input");
    const required = new Set((json.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((json.properties ?? {}) as Record<string, Json>)) {
      out.push(parameter(name, "query", required.has(name), schema));
    }
  }
  return out;
}

function operation(route: RouteDoc, sink: SchemaSink): Json {
  const op: Json = {
    operationId: operationId(route),
    summary: route.summary,
    tags: [route.tag],
    security: SECURITY[route.auth],
  };
  if (route.description) op.description = route.description;
  const params = parameters(route, sink);
  if (params.length > 0) op.parameters = params;
  if (route.body) op.requestBody = { required: true, content: { "application/json": { schema: sink.convert(route.body, "input") } } };
  const responses: Json = {};
  for (const [status, doc] of Object.entries(route.responses)) responses[status] = responseObject(doc, sink);
  for (const error of errorsOf(route)) {
    if (responses[error.status]) throw new Error(`${route.method} ${route.route}: ${error.status} is both an answer and an error`);
    responses[error.status] = errorResponse(error, sink);
  }
  responses.default = {
    description:
      "`internal_error`: an unexpected fault (no details are given); also Node's refusals before any route (408 `request_timeout`, 431 `headers_too_large`, 400 `invalid_request` for a malformed request) and 404 `not_found` for a non-canonical path",
    content: { "application/json": { schema: sink.output(errorBody) } } };
  op.responses = responses;
  if (route.websocket) {
    op["x-websocket"] = {
      serverMessages: { $ref: `${COMPONENTS}WsServerMessage` },
      clientMessages: { $ref: `${COMPONENTS}WsClientMessage` },
      closeCodes: { 4401: "invalid, revoked or expired token" },
    };
  }
  return op;
}

export function operationId(route: Pick<RouteDoc, "method" | "route">): string {
  const words = route.route
    .split("/")
    .filter(Boolean)
    .map((s) => s.replace(/^\*\*:|^:/, "by-").replace(/[^\w]+/g, "-"));
  return [route.method.toLowerCase(), ...words]
    .join("-")
    .split("-")
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1)))
    .join("");
}

const DESCRIPTION = [
  "BTC tap trading: bet that the BTC-USD index touches a price band during a time window.",
  "Money is integer micro-USD (`…MicroUsd`), prices integer USD cents (`…Cents`), times epoch milliseconds.",
  "Errors always have the shape of `components.schemas.Error`; nginx in front answers 403, 413, 429, 502, 503 and 504 in the same shape.",
  "Every path is matched as the client sent it: a path that is not canonical (a trailing slash, an empty, `.` or `..` segment, a `%`-escape or a backslash) is 404 `not_found` like an unknown route; a known path with another method is 405 `method_not_allowed` with an `Allow` header.",
  "A JSON-body route called with another content type is 415 `unsupported_media_type`. A dependency that fails (disk full, an I/O error, Redis down or slower than its timeout) is 503 `unavailable` with `Retry-After`: no money moved and the same request may be retried.",
  "Every read (GET) except /healthz, /readyz, /metrics and /ws passes a per-IP limit: 429 `rate_limited` with `Retry-After`.",
  "Before any route, Node's HTTP server refuses in the same shape: 408 `request_timeout` (the head or the whole request did not arrive within HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS), 431 `headers_too_large` (a head over HTTP_MAX_HEADER_BYTES) and 400 `invalid_request` (a malformed request); the connection is closed.",
  "Player routes take `Authorization: Bearer <token>` from `POST /api/auth/verify`; admin routes the ADMIN_TOKEN.",
  "The WebSocket `/ws` frames are the `Ws*` schemas under `components.schemas` (each message's `type` is a constant).",
].join("\n\n");

/** The OpenAPI 3.1 document of `routes` (default: every route of the API) and the WebSocket frames. */
export function buildOpenApiDocument(routes: readonly RouteDoc[] = API_ROUTES): OpenApiDocument {
  const sink = new SchemaSink();
  const paths: OpenApiDocument["paths"] = {};
  for (const route of routes) {
    const path = openApiPath(route.route);
    const method = route.method.toLowerCase();
    paths[path] ??= {};
    if (paths[path][method]) throw new Error(`${route.method} ${route.route} is documented twice`);
    paths[path][method] = operation(route, sink);
  }
  for (const schema of WS_SCHEMAS) sink.output(schema);
  return {
    openapi: "3.1.0",
    info: { title: "BTC tap-trading API", version: "1", description: DESCRIPTION },
    servers: [{ url: "/" }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    security: [],
    paths,
    components: {
      schemas: sortKeys(sink.components),
      securitySchemes: {
        playerBearer: { type: "http", scheme: "bearer", description: "session token from POST /api/auth/verify" },
        adminBearer: { type: "http", scheme: "bearer", description: "the server's ADMIN_TOKEN; admin routes are 404 while it is unset" },
      },
    },
  };
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

let cached: { doc: OpenApiDocument; text: string } | undefined;

/** The document of this build, generated on first use (tens of ms of zod → JSON Schema), then kept. */
export function openApiDocument(): OpenApiDocument {
  cached ??= serialised(buildOpenApiDocument());
  return cached.doc;
}

/** The same document as JSON text, serialised once (it is ~80 KB). */
export function openApiJson(): string {
  openApiDocument();
  return cached!.text;
}

function serialised(doc: OpenApiDocument) {
  return { doc, text: JSON.stringify(doc) };
}
