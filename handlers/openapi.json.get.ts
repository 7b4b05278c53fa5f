import { defineHandler } from "h3";
import { openApiDocument } from "../services/api-docs/openapi.ts";

/** GET /openapi.json — the OpenAPI 3.1 document of every route and the WebSocket frames (API.md § Client surface). */
export default defineHandler(() => openApiDocument());
