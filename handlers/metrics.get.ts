import { defineHandler } from "h3";
import { useApp } from "../runtime/context.ts";

export default defineHandler(async (event) => {
  const { registry } = useApp(event).metrics;
  event.res.headers.set("content-type", registry.contentType);
  return registry.metrics();
});
