import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILT_SERVER_ARGS, clientOf, startChildServer, type ChildServer } from "./helpers/child.ts";
import { signIn } from "./helpers/siwe.ts";
import { moduleUrl, nodeArgsFor } from "../storage/workers.ts";
import { ADMIN_TOKEN, newKey, pickCell, postBet } from "./helpers/bets-fixture.ts";

/**
 * Issue 15: production runs compiled JavaScript. `npm run build` fills dist/, and `node
 * dist/runtime/main.js` (no TypeScript loader: Node 20 refuses a .ts import outright) serves, takes
 * a bet through the writer thread and its checkpointer, and runs the archive in its child process.
 */
const root = join(import.meta.dirname, "..");
const BUILD_TIMEOUT_MS = 300_000;
const dataDir = mkdtempSync(join(tmpdir(), "tap-build-"));
let server: ChildServer | undefined;

const api = () => clientOf(server!);

beforeAll(async () => {
  await promisify(execFile)("npm", ["run", "build"], { cwd: root, timeout: BUILD_TIMEOUT_MS });
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill("SIGKILL");
    await server.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the build in dist/", () => {
  it("holds the compiled server, its handlers, thread entries and migrations, and no TypeScript", () => {
    for (const file of [
      "runtime/main.js",
      "runtime/writer-thread.js",
      "runtime/job-cli.js",
      "storage/checkpointer.js",
      "storage/backup-thread.js",
      "storage/worker-boot.mjs",
      "storage/migrations/001_init.sql",
      "storage/history-migrations/001_init.sql",
      "handlers/api/bets.post.js",
    ]) {
      expect(existsSync(join(root, "dist", file)), file).toBe(true);
    }
    expect(existsSync(join(root, "dist", "runtime", "main.ts"))).toBe(false);
  });

  it("drops outputs whose source is gone, so a deleted route or migration is never served from a stale build", async () => {
    const staleRoute = join(root, "dist", "handlers", "api", "stale-test-route.get.js");
    const staleMigration = join(root, "dist", "storage", "migrations", "999_stale_test.sql");
    writeFileSync(staleRoute, "export default () => 'stale';\n");
    writeFileSync(staleMigration, "SELECT 1;\n");
    await promisify(execFile)(process.execPath, [join(root, "scripts", "build-finish.mjs")], { cwd: root });
    expect(existsSync(staleRoute)).toBe(false);
    expect(existsSync(staleMigration)).toBe(false);
    expect(existsSync(join(root, "dist", "handlers", "api", "bets.post.js"))).toBe(true);
  });

  it("node dist/runtime/main.js answers /healthz, serves the page, takes a bet and runs the archive in its child process", async () => {
    server = await startChildServer(
      { DATA_DIR: dataDir, ADMIN_TOKEN, PRICE_SOURCES: "synthetic", SYNTHETIC_TICK_MS: "50", NODE_ENV: "production", DEMO_BALANCE_MICRO_USD: "1000000000" },
      30_000,
      BUILT_SERVER_ARGS,
    );
    expect(server.child.spawnargs.join(" ")).not.toMatch(/tsx|\.ts\b/);
    const health = await api().request("/healthz");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    // The demo page and its bundle (web/, built by `npm run build`) are served by the compiled server too.
    const page = await api().request("/");
    expect(page.status, await page.clone().text()).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const bundle = await api().request("/assets/app.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toMatch(/^text\/javascript/);

    const player = await signIn(api());
    const cell = await pickCell(api(), 1);
    const bet = await postBet(api(), player.token, { col: cell.col, row: cell.row, stakeMicroUsd: 1_000_000, idempotencyKey: newKey() });
    expect(bet.status, JSON.stringify(bet.body)).toBe(201);
    const me = (await (await api().request("/api/me", { token: player.token })).json()) as { balanceMicroUsd: number };
    expect(me.balanceMicroUsd).toBe(999_000_000);

    const archive = await api().request("/api/admin/archive", { method: "POST", token: ADMIN_TOKEN });
    expect(archive.status, await archive.clone().text()).toBe(200);
  });
});

describe("thread and child entries", () => {
  it("are the .js files without a loader when the caller is compiled, the .ts files through tsx when it is not", () => {
    const built = moduleUrl("../storage/checkpointer.ts", "file:///srv/app/dist/runtime/writer-thread.js");
    expect(built.href).toBe("file:///srv/app/dist/storage/checkpointer.js");
    const source = moduleUrl("./job-cli.ts", "file:///srv/app/runtime/job-child.ts");
    expect(source.href).toBe("file:///srv/app/runtime/job-cli.ts");
    expect(nodeArgsFor("/srv/app/dist/runtime/job-cli.js")).toEqual(["/srv/app/dist/runtime/job-cli.js"]);
    expect(nodeArgsFor("/srv/app/runtime/job-cli.ts")).toEqual(["--import", "tsx", "/srv/app/runtime/job-cli.ts"]);
  });
});
