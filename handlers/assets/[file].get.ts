import { defineHandler, getRouterParam } from "h3";
import { serveWebAsset } from "../../runtime/static-assets.ts";

/** GET /assets/:file — the demo page's bundle and style sheet (a fixed list; anything else is 404). */
export default defineHandler((event) => serveWebAsset(event, `/assets/${getRouterParam(event, "file", { decode: false }) ?? ""}`));
