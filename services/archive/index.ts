import type { InstallModule } from "../types.ts";

export const installArchive: InstallModule = () => ({});
