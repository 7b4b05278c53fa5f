export { default } from "../../../handlers/readyz.get.ts";
