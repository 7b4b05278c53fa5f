import { defineHandler } from "h3";
import { serveWebAsset } from "../runtime/static-assets.ts";

/** GET / — the demo page (web/index.html). */
export default defineHandler((event) => serveWebAsset(event, "/"));
