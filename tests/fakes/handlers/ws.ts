export { default } from "../../../handlers/ws.ts";
