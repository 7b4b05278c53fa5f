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
  const stop = (reason: string, exitCode = 0) => {
    if (stopping || !server) return;
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
  // The writer thread died: nothing can be written any more; stop, and systemd starts a fresh process.
  server = await startServer(config, { onFatal: () => stop("writer thread failed", 70) });
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
