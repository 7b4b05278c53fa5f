import { HTTPError } from "h3";
import { ReplyError } from "ioredis";
import { describe, expect, it } from "vitest";
import { toErrorBody } from "../runtime/errors.ts";
import { retryDelayMs } from "../domain/backoff.ts";
import { createRedisGuard } from "../storage/redis-guard.ts";
import { DependencyUnavailableError, unavailableDependency } from "../storage/unavailable.ts";
import { decodeError, encodeError } from "../storage/wire-errors.ts";
import { diskFullError } from "./helpers/faults.ts";

describe("faults: settlement retry backoff", () => {
  it("doubles from the base after each failure and never exceeds the cap", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => retryDelayMs(n, 100, 2000))).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000]);
    expect(retryDelayMs(0, 100, 2000)).toBe(0);
  });
});

describe("faults: which errors are a dependency that is unavailable", () => {
  it("names the database for disk-full and I/O errors, also after crossing the writer thread and inside h3's wrapper", () => {
    const full = diskFullError();
    expect(unavailableDependency(full)).toBe("database");
    expect(unavailableDependency(Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR_WRITE" }))).toBe("database");
    const crossed = decodeError(encodeError(full), []);
    expect(unavailableDependency(crossed)).toBe("database");
    expect(unavailableDependency(new HTTPError(crossed))).toBe("database");
  });

  it("names Redis for the guard's errors, and nothing for bugs and refusals", () => {
    expect(unavailableDependency(new DependencyUnavailableError("redis", "timed out"))).toBe("redis");
    expect(unavailableDependency(Object.assign(new Error("UNIQUE constraint failed"), { code: "SQLITE_CONSTRAINT_UNIQUE" }))).toBeUndefined();
    expect(unavailableDependency(new TypeError("x is undefined"))).toBeUndefined();
    expect(unavailableDependency(undefined)).toBeUndefined();
  });
});

describe("faults: the error body of a dependency fault", () => {
  it("is 503 unavailable with Retry-After and no internals; a bug stays a bare 500", () => {
    const rendered = toErrorBody(new HTTPError(diskFullError()));
    expect(rendered.status).toBe(503);
    expect(rendered.body.error.code).toBe("unavailable");
    expect(Number(rendered.headers?.["retry-after"])).toBeGreaterThan(0);
    expect(JSON.stringify(rendered.body)).not.toMatch(/SQLITE|disk is full/);
    const bug = toErrorBody(new HTTPError(new Error("boom")));
    expect(bug).toEqual({ status: 500, body: { error: { code: "internal_error", message: "internal error" } } });
  });
});

describe("faults: the Redis guard", () => {
  it("fails a command that does not answer within the timeout", async () => {
    const guard = createRedisGuard({ commandTimeoutMs: 50, pendingMax: 10 });
    const started = performance.now();
    const error = await guard(() => new Promise(() => {})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("refuses at once beyond the pending bound, and takes commands again once they are answered", async () => {
    const guard = createRedisGuard({ commandTimeoutMs: 1000, pendingMax: 2 });
    const releases: (() => void)[] = [];
    const held = [0, 1].map(() => guard(() => new Promise<string>((resolve) => releases.push(() => resolve("ok")))));
    await expect(guard(async () => "third")).rejects.toThrow(/too many Redis commands/);
    for (const release of releases) release();
    await expect(Promise.all(held)).resolves.toEqual(["ok", "ok"]);
    await expect(guard(async () => "after")).resolves.toBe("after");
  });

  it("turns connection errors into unavailability and lets a real reply error (a bug) through", async () => {
    const guard = createRedisGuard({ commandTimeoutMs: 1000, pendingMax: 10 });
    await expect(guard(() => Promise.reject(new Error("Connection is closed.")))).rejects.toBeInstanceOf(DependencyUnavailableError);
    const wrongType = new ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value");
    await expect(guard(() => Promise.reject(wrongType))).rejects.toBe(wrongType);
    await expect(guard(() => Promise.reject(new ReplyError("LOADING Redis is loading the dataset in memory")))).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
