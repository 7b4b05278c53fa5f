import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { OpenApiDocument } from "../../services/api-docs/openapi.ts";
import { openApiPath } from "../../services/api-docs/openapi.ts";

const DOC_ID = "https://openapi.invalid/openapi.json";

/** JSON pointer escaping (RFC 6901) of one reference token. */
const token = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

export interface RealAnswer {
  status: number;
  contentType: string | null;
  /** Parsed JSON when the answer is JSON, else the text. */
  body: unknown;
}

/**
 * Checks real answers against an OpenAPI document with Ajv (JSON Schema 2020-12, OpenAPI 3.1's
 * dialect): the status must be documented for the operation, and the body must validate against the
 * documented schema of its media type. Records which operations were exercised and with what status.
 */
export class DocumentChecker {
  readonly seen = new Map<string, Set<number>>();
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  readonly #cache = new Map<string, ValidateFunction>();

  constructor(readonly doc: OpenApiDocument) {
    this.#ajv.addSchema({ ...doc, $id: DOC_ID });
  }

  /** The documented answer of `METHOD route` with `status`, or throws naming what is missing. */
  response(method: string, route: string, status: number): Record<string, unknown> {
    const path = openApiPath(route);
    const op = this.doc.paths[path]?.[method.toLowerCase()] as { responses?: Record<string, Record<string, unknown>> } | undefined;
    if (!op) throw new Error(`${method} ${path} is not in the document`);
    const response = op.responses?.[String(status)];
    if (!response) throw new Error(`${method} ${path} answered ${status}, which the document does not list (it lists ${Object.keys(op.responses ?? {}).join(", ")})`);
    return response;
  }

  /** Validates one real answer; throws with the validator's errors when it does not match. */
  check(method: string, route: string, answer: RealAnswer): void {
    const response = this.response(method, route, answer.status);
    const content = response.content as Record<string, unknown> | undefined;
    const key = `${method} ${route}`;
    if (!this.seen.has(key)) this.seen.set(key, new Set());
    this.seen.get(key)!.add(answer.status);
    if (!content) {
      if (answer.body !== "" && answer.body !== undefined) throw new Error(`${key} ${answer.status}: documented without a body, got ${JSON.stringify(answer.body)}`);
      return;
    }
    const mediaType = (answer.contentType ?? "").split(";")[0]!.trim();
    if (!(mediaType in content)) throw new Error(`${key} ${answer.status}: content type ${mediaType} is not documented (${Object.keys(content).join(", ")})`);
    const pointer = ["paths", openApiPath(route), method.toLowerCase(), "responses", String(answer.status), "content", mediaType, "schema"].map(token).join("/");
    this.#validate(`#/${pointer}`, answer.body, `${key} ${answer.status}`);
  }

  /** Validates a value against `#/components/schemas/<name>`. */
  checkComponent(name: string, value: unknown): void {
    this.#validate(`#/components/schemas/${token(name)}`, value, name);
  }

  #validate(pointer: string, value: unknown, label: string): void {
    let validate = this.#cache.get(pointer);
    if (!validate) {
      validate = this.#ajv.getSchema(`${DOC_ID}${pointer}`);
      if (!validate) throw new Error(`no schema at ${pointer}`);
      this.#cache.set(pointer, validate);
    }
    if (!validate(value)) {
      throw new Error(`${label} does not match the document: ${JSON.stringify(validate.errors?.slice(0, 5))}\nbody: ${JSON.stringify(value).slice(0, 800)}`);
    }
  }
}

/** Reads a fetch Response as a RealAnswer (JSON parsed when the server says it is JSON). */
export async function realAnswer(res: Response): Promise<RealAnswer> {
  const contentType = res.headers.get("content-type");
  const text = await res.text();
  const body = contentType?.includes("json") && text !== "" ? (JSON.parse(text) as unknown) : text;
  return { status: res.status, contentType, body };
}
