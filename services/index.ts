import type { InstallModule } from "./types.ts";
import { installAuth } from "./auth/index.ts";
import { installPrice } from "./price/index.ts";
import { installPricing } from "./pricing/index.ts";
import { installRealtime } from "./realtime/index.ts";
import { installBets } from "./bets/index.ts";
import { installResolver } from "./resolver/index.ts";
import { installArchive } from "./archive/index.ts";
import { installBackup } from "./backup/index.ts";

/** The modules of the service in install order: each may use what the ones before it installed. */
export const MODULES: InstallModule[] = [
  installAuth,
  installPrice,
  installPricing,
  installRealtime,
  installBets,
  installResolver,
  installArchive,
  installBackup,
];
