import type { InstallModule } from "../types.ts";

export const installRealtime: InstallModule = () => ({});
