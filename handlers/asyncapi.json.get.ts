import { defineHandler } from "h3";
import { asyncApiJson } from "../services/api-docs/asyncapi.ts";

/** GET /asyncapi.json — the AsyncAPI 3.0 document of the `/ws` frames (the same schemas as /openapi.json's Ws* components). */
export default defineHandler((event) => {
  event.res.headers.set("content-type", "application/json; charset=utf-8");
  return asyncApiJson();
});
