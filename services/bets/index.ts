import type { InstallModule } from "../types.ts";

export const installBets: InstallModule = () => ({});
