import { defineHandler } from "h3";
import { openApiJson } from "../services/api-docs/openapi.ts";

/** GET /openapi.json — the OpenAPI 3.1 document of every route and the WebSocket frames (API.md § Client surface). */
export default defineHandler((event) => {
  event.res.headers.set("content-type", "application/json; charset=utf-8");
  return openApiJson();
});
