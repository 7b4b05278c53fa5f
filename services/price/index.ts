import type { InstallModule } from "../types.ts";
import type { PriceService } from "./types.ts";

declare module "../types.ts" {
  interface Services {
    price: PriceService;
  }
}

export const installPrice: InstallModule = () => ({});
