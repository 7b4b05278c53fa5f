import type { InstallModule } from "./types.ts";
import type { Role } from "../runtime/config.ts";
import { installAuth } from "./auth/index.ts";
import { installPrice } from "./price/index.ts";
import { installPricing } from "./pricing/index.ts";
import { installStreamMirror, installStreamPublisher } from "./stream/index.ts";
import { installRealtime } from "./realtime/index.ts";
import { installBets } from "./bets/index.ts";
import { installResolver } from "./resolver/index.ts";
import { installArchive } from "./archive/index.ts";
import { installBackup } from "./backup/index.ts";

/**
 * The modules of each role (ROLE, SPEC §11), in install order: each may use what the ones before it
 * installed. `all` is the single process; `core` is the same without the WebSocket hub (edges serve
 * the audience); `edge` serves the audience from the core's stream over the bus, with no database,
 * no feeds and no jobs.
 */
export const MODULES: Record<Role, InstallModule[]> = {
  all: [installAuth, installPrice, installPricing, installStreamPublisher, installRealtime, installBets, installResolver, installArchive, installBackup],
  core: [installAuth, installPrice, installPricing, installStreamPublisher, installBets, installResolver, installArchive, installBackup],
  edge: [installAuth, installStreamMirror, installRealtime],
};
