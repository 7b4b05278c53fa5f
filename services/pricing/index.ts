import type { InstallModule } from "../types.ts";
import type { PricingService } from "./types.ts";

declare module "../types.ts" {
  interface Services {
    pricing: PricingService;
  }
}

export const installPricing: InstallModule = () => ({});
