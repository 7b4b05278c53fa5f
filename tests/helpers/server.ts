import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testConfig } from "../../runtime/config.ts";
import { startServer, type RunningServer, type StartOptions } from "../../runtime/server.ts";

export interface TestServer extends RunningServer {
  dataDir: string;
  /** fetch relative to the server, JSON body encoded when `json` is given. */
  request(path: string, init?: RequestInit & { json?: unknown; token?: string }): Promise<Response>;
  stop(): Promise<void>;
}

/** A real server on a free port with a temporary DATA_DIR; `stop()` closes it and removes the data. */
export async function startTestServer(
  overrides: Record<string, string | number | boolean> = {},
  options: StartOptions & { keepData?: boolean; dataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "tap-test-"));
  const config = testConfig({ PORT: 0, DATA_DIR: dataDir, PRICE_SOURCES: "manual", ...overrides });
  const server = await startServer(config, options);
  return {
    ...server,
    dataDir,
    request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.json !== undefined) headers.set("content-type", "application/json");
      if (init.token) headers.set("authorization", `Bearer ${init.token}`);
      const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
      return fetch(server.url + path, { ...init, headers, body });
    },
    async stop() {
      await server.close();
      if (!options.keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
