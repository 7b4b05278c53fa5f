export { default } from "../../../handlers/metrics.get.ts";
