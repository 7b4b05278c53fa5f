import { openApiDocument, type OpenApiDocument } from "./openapi.ts";

type Json = Record<string, unknown>;

export interface AsyncApiDocument {
  asyncapi: "3.0.0";
  info: Json;
  defaultContentType: string;
  channels: Record<string, Json>;
  operations: Record<string, Json>;
  components: { schemas: Record<string, Json>; messages: Record<string, Json> };
}

/** Frame type → its schema's component name, in the order of API.md § WebSocket. */
const SERVER_FRAMES = {
  hello: "WsHello",
  price: "WsPrice",
  grid: "WsGrid",
  circuit: "WsCircuit",
  stream: "WsStream",
  bet: "WsBet",
  balance: "WsBalance",
  pong: "WsPong",
} as const;
const CLIENT_FRAMES = { ping: "WsPing", subscribe: "WsSubscribe", unsubscribe: "WsUnsubscribe" } as const;
const REFS_DEPTH_MAX = 32;

/**
 * The AsyncAPI 3.0 view of `/ws`: the same frame schemas as the OpenAPI document's `Ws*`
 * components (copied with the components they reference), one channel, an operation per direction.
 * "send" is what the server sends, "receive" what it accepts.
 */
export function buildAsyncApiDocument(openapi: OpenApiDocument = openApiDocument()): AsyncApiDocument {
  const all = openapi.components.schemas;
  const schemas: Record<string, Json> = {};
  const frames = { ...SERVER_FRAMES, ...CLIENT_FRAMES };
  for (const name of Object.values(frames)) copyWithRefs(name, all, schemas, 0);
  const messages: Record<string, Json> = {};
  for (const [type, name] of Object.entries(frames)) {
    const schema = all[name]!;
    messages[type] = {
      name: type,
      title: `${type} frame`,
      summary: typeof schema.description === "string" ? schema.description : type,
      payload: { $ref: `#/components/schemas/${name}` },
    };
  }
  const channelMessages = Object.fromEntries(Object.keys(frames).map((type) => [type, { $ref: `#/components/messages/${type}` }]));
  const refs = (types: string[]) => types.map((type) => ({ $ref: `#/channels/ws/messages/${type}` }));
  return {
    asyncapi: "3.0.0",
    info: {
      title: "BTC tap-trading WebSocket",
      version: "1",
      description:
        "One JSON object per text frame. Anyone may connect; `?token=<session token>` adds the player's `bet` and `balance` events, and an invalid token is closed with code 4401. The default stream (hello, price, circuit, stream, private events) is about 1.6 KiB/s; the 1/s grid only after `subscribe` to `grid`. Bad frames are ignored and counted; a client that floods is disconnected. The HTTP API is at /openapi.json.",
    },
    defaultContentType: "application/json",
    channels: {
      ws: {
        address: "/ws",
        title: "the game stream",
        messages: channelMessages,
        bindings: {
          ws: {
            method: "GET",
            query: { type: "object", properties: { token: { type: "string", maxLength: 512, description: "session token from POST /api/auth/verify" } } },
          },
        },
      },
    },
    operations: {
      serverFrames: {
        action: "send",
        channel: { $ref: "#/channels/ws" },
        summary:
          "hello on connect (again when the epoch or quote keys change); price every index tick; circuit on change; stream when an edge loses or regains the core; grid about once a second to subscribers; with a token bet and balance; pong to a ping",
        messages: refs(Object.keys(SERVER_FRAMES)),
      },
      clientFrames: {
        action: "receive",
        channel: { $ref: "#/channels/ws" },
        summary: "ping, answered with pong; subscribe / unsubscribe to the grid",
        messages: refs(Object.keys(CLIENT_FRAMES)),
      },
    },
    components: { schemas, messages },
  };
}

/** Copies component `name` and every component it references (bounded depth). */
function copyWithRefs(name: string, from: Record<string, Json>, into: Record<string, Json>, depth: number): void {
  if (into[name]) return;
  if (depth > REFS_DEPTH_MAX) throw new Error(`schema references nested deeper than ${REFS_DEPTH_MAX} at ${name}`);
  const schema = from[name];
  if (!schema) throw new Error(`no component schema ${name}`);
  into[name] = schema;
  for (const ref of JSON.stringify(schema).matchAll(/"#\/components\/schemas\/([^"]+)"/g)) copyWithRefs(ref[1]!, from, into, depth + 1);
}

let cached: { doc: AsyncApiDocument; text: string } | undefined;

export function asyncApiDocument(): AsyncApiDocument {
  if (!cached) {
    const doc = buildAsyncApiDocument();
    cached = { doc, text: JSON.stringify(doc) };
  }
  return cached.doc;
}

/** The same document as JSON text, serialised once. */
export function asyncApiJson(): string {
  asyncApiDocument();
  return cached!.text;
}
