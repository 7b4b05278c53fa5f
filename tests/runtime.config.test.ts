import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../runtime/config.ts";

describe("configuration", () => {
  it("starts from embedded defaults", () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.REDIS_URL).toBeUndefined();
    expect(c.PRICE_SOURCES).toEqual(["synthetic"]);
    expect(c.DEMO_BALANCE_MICRO_USD).toBe(1_000_000_000);
    expect(c.HOUSE_EDGE_BP).toBe(500);
    expect(c.PRICE_STALE_MS).toBe(2000);
  });

  it("gives no demo money in production unless set", () => {
    expect(loadConfig({ NODE_ENV: "production" }).DEMO_BALANCE_MICRO_USD).toBe(0);
    expect(loadConfig({ NODE_ENV: "production", DEMO_BALANCE_MICRO_USD: "5" }).DEMO_BALANCE_MICRO_USD).toBe(5);
  });

  it("parses lists and numbers", () => {
    const c = loadConfig({ PRICE_SOURCES: "binance, kraken", PORT: "8080", REDIS_URL: "redis://127.0.0.1:6380" });
    expect(c.PRICE_SOURCES).toEqual(["binance", "kraken"]);
    expect(c.PORT).toBe(8080);
    expect(c.REDIS_URL).toBe("redis://127.0.0.1:6380");
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PRICE_SOURCES", "synthetic,ftx"],
    ["REDIS_URL", "http://x"],
    ["HOUSE_EDGE_BP", "-1"],
    ["ADMIN_TOKEN", "short"],
    ["DB_SYNCHRONOUS", "OFF"],
  ])("rejects %s=%s with a message naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it("stops the process with a clear message on a bad value", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "..", "runtime", "main.ts")], {
      env: { ...process.env, PORT: "not-a-port", CI: "" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr).toMatch(/invalid configuration/);
    expect(result.stderr).toMatch(/PORT/);
  });
});
