export { default } from "../../../../handlers/api/price.get.ts";
