import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { renderNginx, startNginx, testNginxConfig, type NginxRenderOptions, type RunningNginx } from "../../scripts/lib/nginx.ts";
import { freePort } from "./services.ts";
import { startTestServer, type TestServer } from "./server.ts";

/** The app on a free port with the repository's nginx config in front of it (rendered, `nginx -t`-checked, running). */
export interface NginxStack {
  app: TestServer;
  nginx: RunningNginx;
  prefixDir: string;
  plainPort: number;
  tlsPort: number;
  redirectPort: number;
  /** `http://127.0.0.1:<plainPort>`: the plain server block that includes the same locations as TLS. */
  base: string;
  stop(): Promise<void>;
}

type NginxExtras = Omit<NginxRenderOptions, "prefixDir" | "appPort" | "plainPort" | "tlsPort" | "redirectPort">;

export async function startBehindNginx(appOverrides: Record<string, string | number | boolean> = {}, nginxOptions: NginxExtras = {}): Promise<NginxStack> {
  const app = await startTestServer(appOverrides);
  const prefixDir = mkdtempSync(join(tmpdir(), "tap-nginx-"));
  try {
    const [plainPort, tlsPort, redirectPort] = [await freePort(), await freePort(), await freePort()];
    const conf = renderNginx({ prefixDir, appPort: app.port, plainPort, tlsPort, redirectPort, ...nginxOptions });
    const verdict = testNginxConfig(conf, prefixDir);
    expect(verdict.ok, verdict.output).toBe(true);
    const nginx = await startNginx(conf, prefixDir, plainPort);
    return {
      app,
      nginx,
      prefixDir,
      plainPort,
      tlsPort,
      redirectPort,
      base: `http://127.0.0.1:${plainPort}`,
      async stop() {
        await nginx.stop();
        await app.stop();
        rmSync(prefixDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await app.stop();
    rmSync(prefixDir, { recursive: true, force: true });
    throw error;
  }
}
