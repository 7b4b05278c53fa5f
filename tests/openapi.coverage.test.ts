import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Validator } from "@seriousme/openapi-schema-validator";
import asyncApiSpecs from "@asyncapi/specs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { routeFromPath, scanHandlers } from "../runtime/routes.ts";
import { API_ROUTES, buildAsyncApiDocument, buildOpenApiDocument, errorsOf, openApiPath, routeKey } from "../services/api-docs/index.ts";

/**
 * The OpenAPI document against the runtime: every mounted route is documented and every documented
 * route is mounted (from the runtime's own route table), the document is valid OpenAPI 3.1, its
 * schemas are valid JSON Schema 2020-12, and each route lists the statuses API.md promises.
 */
const handlersDir = join(import.meta.dirname, "..", "handlers");
const doc = buildOpenApiDocument();

/** The route table the server mounts (runtime/app.ts loads exactly what scanHandlers returns). */
function mountedRoutes(): string[] {
  // A method-less file (ws.ts) answers every method; its documented operation is the GET upgrade.
  return scanHandlers(handlersDir).map((r) => `${r.method || "GET"} ${r.route}`);
}

function documentedRoutes(): string[] {
  const out: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) for (const method of Object.keys(ops)) out.push(`${method.toUpperCase()} ${path}`);
  return out;
}

const operation = (method: string, route: string) => doc.paths[openApiPath(route)]?.[method.toLowerCase()] as
  | { responses: Record<string, { description: string; content?: Record<string, { schema: { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } }> }>; security: unknown[]; requestBody?: unknown }
  | undefined;

/** The error codes the document lists for one status of one route. */
function codes(method: string, route: string, status: number): string[] {
  const schema = operation(method, route)?.responses[String(status)]?.content?.["application/json"]?.schema;
  return schema?.properties?.error?.properties?.code?.enum ?? [];
}

describe("OpenAPI document ↔ mounted routes", () => {
  it("documents every mounted route, and mounts every documented route", () => {
    const mounted = mountedRoutes().map((key) => {
      const [method, route] = key.split(" ") as [string, string];
      return `${method} ${openApiPath(route)}`;
    });
    const documented = documentedRoutes();
    expect(mounted.length).toBeGreaterThanOrEqual(20);
    expect(mounted.filter((r) => !documented.includes(r)), "mounted but not documented").toEqual([]);
    expect(documented.filter((r) => !mounted.includes(r)), "documented but not mounted").toEqual([]);
  });

  it("the registry names each route once, in the runtime's spelling", () => {
    const keys = API_ROUTES.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
    const mounted = new Set(mountedRoutes());
    for (const key of keys) expect(mounted.has(key), key).toBe(true);
  });

  it("maps a handler with a document extension to its path, and still refuses other dotted names", () => {
    expect(routeFromPath("openapi.json.get.ts")).toEqual({ method: "GET", route: "/openapi.json" });
    expect(routeFromPath("docs/api.json.get.ts")).toEqual({ method: "GET", route: "/docs/api.json" });
    expect(routeFromPath("api/a.b.get.ts")).toBeUndefined();
    expect(routeFromPath("openapi.json.ts")).toBeUndefined();
  });

  it("no handler defines its own schema: they import them from the module the document is built from", () => {
    for (const route of scanHandlers(handlersDir)) {
      const source = readFileSync(route.file, "utf8");
      expect(source, route.file).not.toMatch(/from "zod"/);
    }
  });
});

describe("OpenAPI document: structure", () => {
  it("is a valid OpenAPI 3.1 document (official schema)", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc) as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("the validator used above does reject a broken document (the check can fail)", async () => {
    const broken = structuredClone(doc) as unknown as { paths: Record<string, unknown> };
    broken.paths["/api/me"] = { get: { responses: { 200: { content: "not an object" } } } };
    expect((await new Validator().validate(broken as never)).valid).toBe(false);
  });

  it("every schema compiles as strict JSON Schema 2020-12 and every $ref resolves", () => {
    const ajv = new Ajv2020({ strict: true, validateFormats: false });
    const text = JSON.stringify(doc).replaceAll('"#/components/schemas/', '"#/$defs/');
    const copy = JSON.parse(text) as typeof doc;
    const defs = copy.components.schemas;
    const everySchema: unknown[] = [];
    const collect = (node: unknown, key?: string) => {
      if (Array.isArray(node)) node.forEach((n) => collect(n));
      else if (node && typeof node === "object") {
        if (key === "schema") everySchema.push(node);
        for (const [k, v] of Object.entries(node)) if (k !== "schema" || key !== "schema") collect(v, k);
      }
    };
    collect(copy.paths);
    expect(everySchema.length).toBeGreaterThan(50);
    expect(() => ajv.compile({ $defs: defs, anyOf: everySchema })).not.toThrow();
    const names = Object.keys(defs);
    for (const name of names) expect(() => ajv.compile({ $defs: defs, $ref: `#/$defs/${name}` }), name).not.toThrow();
  });

  it("documents the WebSocket frames, each with its type as a constant", () => {
    const schemas = doc.components.schemas as Record<string, { properties?: { type?: { const?: string } }; oneOf?: unknown[] }>;
    const types = ["hello", "price", "grid", "circuit", "stream", "bet", "balance", "pong", "ping", "subscribe", "unsubscribe"];
    for (const type of types) {
      const name = `Ws${type[0]!.toUpperCase()}${type.slice(1)}`;
      expect(schemas[name]?.properties?.type?.const, name).toBe(type);
    }
    expect(schemas.WsServerMessage?.oneOf).toHaveLength(8);
    expect(schemas.WsClientMessage?.oneOf).toHaveLength(3);
    const quote = schemas.WsQuote as { type?: string; pattern?: string };
    expect(quote.type).toBe("string");
    expect(quote.pattern).toBeDefined();
    const price = schemas.WsPrice as { required?: string[] };
    expect(price.required).toEqual(expect.arrayContaining(["seq", "epoch", "priceCents", "at"]));
    const ws = operation("GET", "/ws") as unknown as Record<string, unknown>;
    expect(ws["x-websocket"]).toMatchObject({ serverMessages: { $ref: "#/components/schemas/WsServerMessage" } });
  });
});

describe("AsyncAPI document of /ws", () => {
  const asyncapi = buildAsyncApiDocument(doc);
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(
    (asyncApiSpecs as unknown as { schemasWithoutId: Record<string, object> }).schemasWithoutId["3.0.0"]!,
  );

  it("is a valid AsyncAPI 3.0.0 document (official schema), and the check can fail", () => {
    expect(validate(asyncapi), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    const broken = structuredClone(asyncapi) as unknown as { operations: { serverFrames: { action: string } } };
    broken.operations.serverFrames.action = "emit";
    expect(validate(broken)).toBe(false);
  });

  it("carries every frame with the very schema of the OpenAPI components", () => {
    const sends = (asyncapi.operations.serverFrames!.messages as { $ref: string }[]).map((m) => m.$ref.split("/").pop());
    expect(sends).toEqual(["hello", "price", "grid", "circuit", "stream", "bet", "balance", "pong"]);
    expect((asyncapi.operations.clientFrames!.messages as { $ref: string }[]).map((m) => m.$ref.split("/").pop())).toEqual(["ping", "subscribe", "unsubscribe"]);
    for (const [name, schema] of Object.entries(asyncapi.components.schemas)) expect(schema, name).toEqual(doc.components.schemas[name]);
    expect(Object.keys(asyncapi.components.schemas)).toEqual(expect.arrayContaining(["Bet", "GridCell", "WsQuote"]));
  });
});

describe("OpenAPI document: auth and every status a route can answer", () => {
  const byAuth = (auth: string) => API_ROUTES.filter((r) => r.auth === auth);

  it("player routes take the session bearer and answer 401 unauthorized; admin routes the admin bearer, 401 and 404 while off", () => {
    expect(byAuth("player").length).toBe(7);
    for (const r of byAuth("player")) {
      expect(operation(r.method, r.route)?.security, routeKey(r)).toEqual([{ playerBearer: [] }]);
      expect(codes(r.method, r.route, 401), routeKey(r)).toEqual(["unauthorized"]);
    }
    expect(byAuth("admin").length).toBe(4);
    for (const r of byAuth("admin")) {
      expect(operation(r.method, r.route)?.security, routeKey(r)).toEqual([{ adminBearer: [] }]);
      expect(codes(r.method, r.route, 401), routeKey(r)).toEqual(["unauthorized"]);
      expect(codes(r.method, r.route, 404), routeKey(r)).toEqual(["not_found"]);
    }
    for (const r of byAuth("public")) expect(operation(r.method, r.route)?.security, routeKey(r)).toEqual([]);
    expect(doc.components.securitySchemes.playerBearer).toMatchObject({ type: "http", scheme: "bearer" });
  });

  it("every JSON-body route documents its body, 400, 413 and 415 unsupported_media_type", () => {
    const withBody = API_ROUTES.filter((r) => r.body);
    expect(withBody.map(routeKey).sort()).toEqual(["POST /api/admin/credit", "POST /api/auth/nonce", "POST /api/auth/verify", "POST /api/bets"]);
    for (const r of withBody) {
      expect(operation(r.method, r.route)?.requestBody, routeKey(r)).toBeDefined();
      expect(codes(r.method, r.route, 400), routeKey(r)).toContain("invalid_request");
      expect(codes(r.method, r.route, 413), routeKey(r)).toEqual(["payload_too_large"]);
      expect(codes(r.method, r.route, 415), routeKey(r)).toEqual(["unsupported_media_type"]);
    }
  });

  it("routes that touch the database or Redis document 503 unavailable with Retry-After; unauthenticated reads 429", () => {
    const storage = ["POST /api/auth/nonce", "POST /api/auth/verify", "POST /api/auth/logout", "GET /api/me", "POST /api/bets", "GET /api/bets", "GET /api/bets/:id", "GET /api/bets/:id/proof", "GET /api/ledger"];
    for (const key of storage) {
      const [method, route] = key.split(" ") as [string, string];
      expect(codes(method, route, 503), key).toContain("unavailable");
      expect(Object.keys((operation(method, route)?.responses["503"] as { headers?: object }).headers ?? {}), key).toEqual(["Retry-After"]);
    }
    for (const key of ["GET /api/price", "GET /api/grid"]) {
      const [method, route] = key.split(" ") as [string, string];
      expect(codes(method, route, 429), key).toEqual(["rate_limited"]);
    }
  });

  it("lists the refusals of API.md § Bets and the 404 of an unknown bet", () => {
    expect(codes("POST", "/api/bets", 402)).toEqual(["insufficient_balance"]);
    expect(codes("POST", "/api/bets", 409).sort()).toEqual(["cell_locked", "cell_not_offered", "exposure_limit", "idempotency_conflict", "multiplier_changed"]);
    expect(codes("POST", "/api/bets", 429).sort()).toEqual(["rate_limited", "too_many_open_bets"]);
    expect(codes("POST", "/api/bets", 503).sort()).toEqual(["overloaded", "price_stale", "shutting_down", "unavailable"]);
    expect(Object.keys(operation("POST", "/api/bets")!.responses).sort()).toEqual(["200", "201", "400", "401", "402", "409", "413", "415", "429", "503", "default"]);
    expect(codes("GET", "/api/bets/:id", 404)).toEqual(["not_found"]);
    expect(codes("GET", "/api/bets/:id/proof", 404)).toEqual(["not_found"]);
    expect(codes("POST", "/api/auth/verify", 401)).toEqual(
      expect.arrayContaining(["invalid_signature", "nonce_unknown", "nonce_expired", "domain_mismatch", "uri_mismatch", "chain_mismatch", "message_expired", "message_not_yet_valid"]),
    );
  });

  it("merges a route's own errors with those its kind implies, one entry per status", () => {
    const bets = API_ROUTES.find((r) => routeKey(r) === "POST /api/bets")!;
    const statuses = errorsOf(bets).map((e) => e.status);
    expect(statuses).toEqual([...new Set(statuses)].sort((a, b) => a - b));
  });
});

describe("OpenAPI document: parameters", () => {
  it("documents path and query parameters with their bounds and defaults, and no 400 where nothing is validated", () => {
    const grid = operation("GET", "/api/grid") as unknown as { parameters: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[] };
    expect(grid.parameters).toEqual([
      { name: "cols", in: "query", required: false, schema: { default: 12, type: "integer", minimum: 1, maximum: 60 } },
      { name: "rows", in: "query", required: false, schema: { default: 21, type: "integer", minimum: 1, maximum: 61 } },
    ]);
    const bet = operation("GET", "/api/bets/:id") as unknown as { parameters: { name: string; in: string; required: boolean; description?: string }[] };
    expect(bet.parameters).toEqual([expect.objectContaining({ name: "id", in: "path", required: true, description: "the bet's `id`" })]);
    const bets = operation("GET", "/api/bets") as unknown as { parameters: { name: string; schema: { enum?: string[] } }[] };
    expect(bets.parameters.map((p) => p.name)).toEqual(["status", "limit", "cursor"]);
    expect(bets.parameters[0]!.schema.enum).toEqual(["open", "won", "lost", "void"]);
    expect(operation("GET", "/ws")!.responses["400"]).toBeUndefined();
    expect(operation("GET", "/api/bets/:id")!.responses["400"]).toBeUndefined();
  });
});
