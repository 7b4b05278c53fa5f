import { ConfigError, loadConfig } from "./config.ts";
import { startServer, type RunningServer } from "./server.ts";

/** `npm start`: validate the environment, start, stop gracefully on SIGTERM/SIGINT. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG: systemd's RestartPreventExitStatus keeps it from looping
    }
    throw error;
  }
  let server: RunningServer | undefined;
  let stopping = false;
  // LEASE=on: a standby stopped before it ever held the lease just leaves (nothing to drain).
  const standby = new AbortController();
  const stop = (reason: string, exitCode = 0) => {
    if (stopping) return;
    if (!server) {
      standby.abort();
      return;
    }
    stopping = true;
    server.ctx.log.info({ signal: reason }, "shutting down");
    server
      .close()
      .then(() => process.exit(exitCode))
      .catch((error) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  try {
    server = await startServer(config, {
      signal: standby.signal,
      // The writer thread died: nothing can be written any more; stop, and systemd starts a fresh process.
      onFatal: () => stop("writer thread failed", 70),
      // Another process holds the writer lease now (this one hung past LEASE_TTL_MS, or its renewal
      // failed): every write of this process is refused by the fence already. Leave at once, without
      // draining (nothing may be written, and nginx retries what was cut); systemd or the supervisor
      // starts it again as the standby.
      onLeaseLost: () => {
        process.stderr.write("the writer lease is held by another process: exiting (75) to restart as the standby\n");
        process.exit(75);
      },
    });
  } catch (error) {
    if (standby.signal.aborted) process.exit(0);
    throw error;
  }
}

main().catch((error) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
