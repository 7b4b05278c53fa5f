import { defineHandler } from "h3";
import { asyncApiDocument } from "../services/api-docs/asyncapi.ts";

/** GET /asyncapi.json — the AsyncAPI 3.0 document of the `/ws` frames (the same schemas as /openapi.json's Ws* components). */
export default defineHandler(() => asyncApiDocument());
