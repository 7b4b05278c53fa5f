import type { InstallModule } from "../types.ts";

export const installPricing: InstallModule = () => ({});
