import { defineWebSocketHandler } from "h3";
import { useApp } from "../runtime/context.ts";

/** /ws — the WebSocket stream of API.md § WebSocket; the hub in services/realtime does the work. */
export default defineWebSocketHandler((event) => useApp(event).services.realtime.hooks);
