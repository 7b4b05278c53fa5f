import type { InstallModule } from "../types.ts";

export const installResolver: InstallModule = () => ({});
