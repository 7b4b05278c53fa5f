import type { InstallModule } from "../types.ts";
import type { ResolverService } from "./types.ts";

declare module "../types.ts" {
  interface Services {
    resolver: ResolverService;
  }
}

export const installResolver: InstallModule = () => ({});
