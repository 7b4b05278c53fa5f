import type { InstallModule } from "../types.ts";

export const installPrice: InstallModule = () => ({});
