import { join } from "node:path";
import { z } from "zod";

/**
 * Every environment variable the service reads, validated once at start-up.
 * A bad value stops the process with a message naming the variable (see `loadConfig`).
 */
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(def);
const bool = (def: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default(def ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === "" ? undefined : v));

const ipList = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.union([z.ipv4(), z.ipv6()])).max(256));

/** `manual` ticks only when fed by `price.ingest` (deterministic tests and replays). */
export const PRICE_SOURCE_NAMES = ["synthetic", "binance", "coinbase", "kraken", "manual"] as const;
export type PriceSourceName = (typeof PRICE_SOURCE_NAMES)[number];

/**
 * What this process is (SPEC §11): `all` the single process (the default); `core` the one process
 * that holds the money (database writer, resolver, archiver, price feeds) and publishes the market
 * stream; `edge` one of any number of processes serving the audience (`/ws`, `GET /api/price`,
 * `GET /api/grid`, the page) from that stream, with no database. services/index.ts maps each to its modules.
 */
export const ROLES = ["all", "core", "edge"] as const;
export type Role = (typeof ROLES)[number];

export const configSchema = z
  .object({
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    ROLE: z.enum(ROLES).default("all"),
    PORT: int(3000, 0, 65535),
    HOST: z.string().min(1).default("127.0.0.1"),
    DATA_DIR: z.string().min(1).default("./data"),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    REDIS_URL: optionalString.pipe(z.string().url().startsWith("redis").optional()),
    REDIS_PREFIX: z.string().default("tap:"),
    /** Every Redis command fails (503 `unavailable` on a request) when not answered within this (issue 13: at most 1 s). */
    REDIS_COMMAND_TIMEOUT_MS: int(1000, 10, 1000),
    /** Redis commands of one connection waiting at once (offline queue included); beyond it they fail at once. */
    REDIS_PENDING_MAX: int(10_000, 1, 1_000_000),

    // Price feed (ADR-008, SPEC §7)
    PRICE_SOURCES: z
      .string()
      .default("synthetic")
      .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.enum(PRICE_SOURCE_NAMES)).min(1)),
    BINANCE_WS_URL: z.string().url().default("wss://stream.binance.com:9443/ws/btcusdt@trade"),
    COINBASE_WS_URL: z.string().url().default("wss://ws-feed.exchange.coinbase.com"),
    KRAKEN_WS_URL: z.string().url().default("wss://ws.kraken.com/v2"),
    PRICE_STALE_MS: int(2000, 100, 600_000),
    PRICE_CHECK_INTERVAL_MS: int(250, 10, 60_000),
    PRICE_RECOVERY_MS: int(1000, 0, 600_000),
    PRICE_OUTLIER_BP: int(200, 1, 10_000),
    // Exchange adapters (issue 14): event-time freshness, reconnects and subscriptions
    PRICE_CLOCK_SKEW_MAX_MS: int(500, 0, 60_000),
    PRICE_LAG_MAX_MS: int(1000, 1, 600_000),
    PRICE_BACKOFF_BASE_MS: int(250, 1, 60_000),
    PRICE_BACKOFF_CAP_MS: int(30_000, 1, 600_000),
    PRICE_SUBSCRIBE_TIMEOUT_MS: int(5000, 10, 120_000),
    PRICE_IDLE_TIMEOUT_MS: int(15_000, 50, 600_000),
    PRICE_PING_INTERVAL_MS: int(5000, 10, 600_000),
    BINANCE_MAX_CONNECTION_MS: int(84_600_000, 500, 86_400_000),
    SYNTHETIC_SEED: int(42),
    SYNTHETIC_TICK_MS: int(100, 1, 60_000),
    SYNTHETIC_START_CENTS: int(9_500_000, 100, 1_000_000_000),
    SYNTHETIC_VOL_ANNUAL_BP: int(6000, 1, 100_000),

    // Grid and pricing (SPEC §2, §4)
    COLUMN_MS: int(10_000, 100, 3_600_000),
    ROW_CENTS: int(1000, 1, 100_000_000),
    LOCK_MS: int(5000, 0, 3_600_000),
    HORIZON_COLUMNS: int(60, 1, 10_000),
    HOUSE_EDGE_BP: int(500, 1, 5000),
    MIN_MULTIPLIER_HUNDREDTHS: int(110, 101, 1_000_000),
    MAX_MULTIPLIER_HUNDREDTHS: int(10_000, 101, 1_000_000),
    /** No quotes (empty grid, bets 503 price_stale) on an index older than this (SPEC §4, issue 12). */
    QUOTE_MAX_AGE_MS: int(500, 50, 600_000),

    // Limits (SPEC §4)
    STAKE_MIN_MICRO_USD: int(100_000, 1),
    // ≤ $100k: with MAX_MULTIPLIER_HUNDREDTHS ≤ 10 000x a payout stays ≤ 10^15 µUSD, a safe integer.
    STAKE_MAX_MICRO_USD: int(100_000_000, 1, 100_000_000_000),
    OPEN_BETS_MAX: int(200, 1, 100_000),
    CELL_STAKE_MAX_MICRO_USD: int(500_000_000, 1),
    BET_RATE_PER_SEC: int(20, 1, 1_000_000),
    BET_RATE_BURST: int(50, 1, 1_000_000),
    CELL_EXPOSURE_MAX_MICRO_USD: int(50_000_000_000, 1),
    COLUMN_EXPOSURE_MAX_MICRO_USD: int(250_000_000_000, 1),

    // Auth (ADR-007)
    AUTH_DOMAIN: z.string().min(1).default("localhost:3000"),
    AUTH_URI: z.string().url().default("http://localhost:3000"),
    AUTH_CHAIN_ID: int(1, 1),
    NONCE_TTL_MS: int(300_000, 1000, 86_400_000),
    SESSION_TTL_MS: int(86_400_000, 1000, 30 * 86_400_000),
    /**
     * Where sessions and nonces live when REDIS_URL is unset: `disk` (default) a libSQL file of
     * their own, `DATA_DIR/sessions.db`, so a restart signs nobody out; `memory` forgets them (tests).
     */
    SESSION_STORE: z.enum(["disk", "memory"]).default("disk"),
    /** Bounds of the embedded stores: a flood of nonces evicts old nonces, never sessions. */
    SESSIONS_MAX: int(1_000_000, 1, 100_000_000),
    NONCES_MAX: int(100_000, 1, 10_000_000),
    /** Nonces one client IP may ask for: a token bucket per IP (429 `rate_limited` beyond it). */
    NONCE_RATE_PER_MIN: int(60, 1, 6_000_000),
    NONCE_RATE_BURST: int(20, 1, 1_000_000),
    ADMIN_TOKEN: optionalString.pipe(z.string().min(16, "ADMIN_TOKEN must be at least 16 characters").optional()),
    DEMO_BALANCE_MICRO_USD: z.coerce.number().int().min(0).optional(),
    /** Largest admin credit or adjustment (either sign), and the largest balance a credit may leave a player with. */
    CREDIT_MAX_MICRO_USD: int(1_000_000_000_000, 1, 1_000_000_000_000_000),
    BALANCE_MAX_MICRO_USD: int(100_000_000_000_000, 1, 1_000_000_000_000_000),
    /** How long after placement an idempotency key is remembered once its bet left for the history database. */
    IDEMPOTENCY_KEY_RETENTION_MS: int(30 * 86_400_000, 86_400_000, 3650 * 86_400_000),

    // Storage and the shared batch queue (ADR-001, ADR-005)
    DB_SYNCHRONOUS: z.enum(["FULL", "NORMAL"]).default("FULL"),
    DB_BUSY_TIMEOUT_MS: int(5000, 0, 600_000),
    BATCH_FLUSH_INTERVAL_MS: int(0, 0, 1000),
    /** Group commit: a transaction starts at least this long after the previous one (see storage/batch-queue.ts). */
    BATCH_COMMIT_SPACING_MS: int(2, 0, 1000),
    BATCH_SIZE_MAX: int(1000, 1, 100_000),
    BATCH_QUEUE_MAX: int(20_000, 1, 10_000_000),
    /**
     * `thread` (default): the batch queue and the only writing connection live in a worker thread,
     * so transactions never run on the event loop that serves HTTP; `inline` runs them on it (the
     * job CLI and small tools, where a second thread buys nothing).
     */
    WRITER_MODE: z.enum(["thread", "inline"]).default("thread"),
    /**
     * With the writer thread: a checkpointer thread copies the WAL back into the database file every
     * this many ms (0: the writer does it itself, SQLite's default), and the writer's own checkpoint
     * waits for this many WAL pages (by then mostly copied, so it only restarts the WAL).
     */
    DB_CHECKPOINT_INTERVAL_MS: int(250, 0, 60_000),
    DB_WAL_AUTOCHECKPOINT_PAGES: int(4000, 100, 1_000_000),

    // HTTP and WebSocket
    BODY_LIMIT_BYTES: int(16_384, 256, 10_485_760),
    /** Node's headersTimeout / requestTimeout: a client gets this long for its request head / its whole request. */
    HTTP_HEADERS_TIMEOUT_MS: int(10_000, 100, 300_000),
    HTTP_REQUEST_TIMEOUT_MS: int(10_000, 100, 300_000),
    /** Node's maxHeaderSize: a larger request head is refused with 431. */
    HTTP_MAX_HEADER_BYTES: int(16_384, 1024, 1_048_576),
    WS_MAX_BUFFERED_BYTES: int(1_048_576, 1024),
    WS_MAX_MESSAGES_PER_SEC: int(20, 1),
    WS_MAX_CLIENTS: int(20_000, 1),
    /**
     * Broadcasts framed once and written to each socket (services/realtime/wire.ts, pinned to the
     * exact `ws` version); false sends through crossws's public `peer.send` instead.
     */
    WS_RAW_FRAMES: bool(true),
    /** Peers whose X-Forwarded-For is believed (nginx on this host); comma list of addresses. */
    TRUSTED_PROXIES: ipList("127.0.0.1,::1"),
    /** Per-IP limit on reads (GET/HEAD) in the app (runtime/rate-limit.ts); nginx limits them too. */
    READ_RATE_PER_SEC: int(20, 1, 1_000_000),
    READ_RATE_BURST: int(40, 1, 1_000_000),
    /** Addresses the read limit leaves alone (comma list; empty = none). */
    READ_RATE_EXEMPT: ipList("127.0.0.1,::1"),
    /** Bound on the addresses the read limit remembers; the least recently seen go first. */
    READ_RATE_CLIENTS_MAX: int(100_000, 1, 10_000_000),
    /** `GET /api/grid` answers are rebuilt at most this often per size (and on circuit changes); 0 = every tick. */
    GRID_REFRESH_MS: int(500, 0, 60_000),
    JOBS_ENABLED: bool(true),
    /**
     * `process` (default): the archive job runs in a child process (`npm run job -- archive`), so
     * its long copy and verify reads never run on the API's event loop; `inline` runs it here
     * (tests with an injected clock, and the job CLI itself).
     */
    ARCHIVE_MODE: z.enum(["process", "inline"]).default("process"),
    /**
     * Settling losses waits while more than this many writes are queued (0: never waits): when a
     * column ends, its losses use the writer's spare time instead of delaying bet placement.
     */
    RESOLVER_LOSS_YIELD_DEPTH: int(16, 0, 1_000_000),
    /** An open bet whose window ended longer ago than this is an integrity problem ("stuck open bet"). */
    STUCK_BET_GRACE_MS: int(30_000, 1000, 86_400_000),

    // Backups (issue 24): the backup job writes a verified copy of current.db and history.db here.
    /** Where backups go (default DATA_DIR/backups); put it on another disk, or a backup dies with the data. */
    BACKUP_DIR: optionalString,
    /** The newest this many backups are always kept. */
    BACKUP_KEEP_RECENT: int(24, 1, 10_000),
    /** Besides those, the newest backup of each of the last this many UTC days (0: none). */
    BACKUP_KEEP_DAILY: int(7, 0, 3650),

    // Deploys and crashes (issue 24 part 1): two core processes on one DATA_DIR, one holding the writer's lease.
    /**
     * `off` (default): no lease, the process writes as soon as it starts (the single process, and
     * several unfenced processes on one DATA_DIR as before). `on`: a failover pair member: it boots,
     * migrates and installs everything, then waits as a warm standby until it holds the lease; only
     * then it starts the writer's work (feeds, resolver, jobs) and listens. Every writing transaction
     * checks the lease (fencing).
     */
    LEASE: z.enum(["off", "on"]).default("off"),
    /** A holder that has not renewed for this long (hung, SIGSTOPped) loses the lease; a dead one is seen at the next poll. */
    LEASE_TTL_MS: int(5000, 200, 600_000),
    /** How often the holder renews (must be well under LEASE_TTL_MS). */
    LEASE_RENEW_MS: int(1000, 20, 300_000),
    /** How often a standby looks whether the lease is free. */
    LEASE_POLL_MS: int(50, 5, 60_000),
    /** Optional file where this process writes its state (`booting`, `standby`, `holder`, `draining`): scripts/deploy.sh waits on it. */
    CORE_STATE_FILE: optionalString,
    /**
     * Socket activation (systemd's protocol; runtime/supervisor.ts does the same): with LISTEN_FDS=1
     * the process listens on the inherited fd 3 instead of HOST:PORT, so a listening socket shared by
     * both cores keeps queueing connections while one hands over to the other. LISTEN_PID, when set,
     * must be this process's pid (systemd sets it), or the fds are not meant for us.
     */
    LISTEN_FDS: z.coerce.number().int().min(0).max(1).optional(),
    LISTEN_PID: z.coerce.number().int().optional(),
  })
  .transform((c) => ({
    ...c,
    // 0 in production unless set; $1000 demo money elsewhere (API.md § Auth).
    DEMO_BALANCE_MICRO_USD: c.DEMO_BALANCE_MICRO_USD ?? (c.NODE_ENV === "production" ? 0 : 1_000_000_000),
    BACKUP_DIR: c.BACKUP_DIR ?? join(c.DATA_DIR, "backups"),
  }))
  .superRefine((c, ctx) => {
    if (c.STAKE_MIN_MICRO_USD > c.STAKE_MAX_MICRO_USD)
      ctx.addIssue({ code: "custom", path: ["STAKE_MIN_MICRO_USD"], message: "must not exceed STAKE_MAX_MICRO_USD" });
    if (c.MIN_MULTIPLIER_HUNDREDTHS > c.MAX_MULTIPLIER_HUNDREDTHS)
      ctx.addIssue({ code: "custom", path: ["MIN_MULTIPLIER_HUNDREDTHS"], message: "must not exceed MAX_MULTIPLIER_HUNDREDTHS" });
    // Core and edges talk over Redis pub/sub and share sessions there (ADR-004).
    if (c.ROLE !== "all" && !c.REDIS_URL) ctx.addIssue({ code: "custom", path: ["REDIS_URL"], message: `ROLE=${c.ROLE} needs Redis (REDIS_URL): core and edges meet there` });
    if (c.LEASE === "on" && c.ROLE === "edge") ctx.addIssue({ code: "custom", path: ["LEASE"], message: "an edge holds no database and takes no lease" });
    if (c.LEASE_RENEW_MS * 2 > c.LEASE_TTL_MS) ctx.addIssue({ code: "custom", path: ["LEASE_RENEW_MS"], message: "must be at most half of LEASE_TTL_MS" });
    if (c.HTTP_HEADERS_TIMEOUT_MS > c.HTTP_REQUEST_TIMEOUT_MS)
      ctx.addIssue({ code: "custom", path: ["HTTP_HEADERS_TIMEOUT_MS"], message: "must not exceed HTTP_REQUEST_TIMEOUT_MS" });
  });

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError whose message names each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const known = Object.keys(configSchema.in.shape);
  const picked: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    if (value !== undefined) picked[key] = value;
  }
  const result = configSchema.safeParse(picked);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join(".") || "(config)"}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
}

/** A config for tests: defaults plus overrides, never reading process.env. */
export function testConfig(overrides: Record<string, string | number | boolean> = {}): Config {
  const env: Record<string, string> = { NODE_ENV: "test", LOG_LEVEL: "silent", JOBS_ENABLED: "false" };
  for (const [k, v] of Object.entries(overrides)) env[k] = String(v);
  return loadConfig(env);
}
