import { createHash, randomBytes } from "node:crypto";
import type { Kv } from "../../storage/kv/index.ts";
import type { Bus } from "../../storage/bus/index.ts";

export interface Session {
  address: string;
  accountId: number;
  expiresAt: number;
}

export interface SessionManagerOptions {
  kv: Kv;
  bus: Bus;
  ttlMs: number;
  now: () => number;
  /** How long a process trusts its cached copy without asking the store again. */
  cacheTtlMs?: number;
  cacheEntriesMax?: number;
}

const REVOKE_CHANNEL = "session:revoked";
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const REVOKED_REMEMBERED_MAX = 10_000;

/**
 * Opaque bearer sessions (ADR-007). The store keeps only sha256(token) → {address, accountId,
 * expiresAt}; a leaked store does not leak usable tokens. A small in-process cache keeps the hot
 * path off Redis; revocation deletes the stored session and tells every process over the bus, and
 * cached entries are re-checked against the store at least every `cacheTtlMs` in case a message
 * was missed. The cache is keyed by the token itself (this process sees it in every request anyway),
 * so a request it answers costs no hash: ~10 µs of a bet's event-loop time (issue 23).
 */
export class SessionManager {
  readonly #o: Required<SessionManagerOptions>;
  /** By token; each entry knows its hash, and `#tokenByHash` finds it from a revocation's hash. */
  readonly #cache = new Map<string, { session: Session; checkedAt: number; hash: string }>();
  readonly #tokenByHash = new Map<string, string>();
  /**
   * Hashes revoked recently (bounded, FIFO). A read of the store that started before a revocation
   * may finish after its bus message; without this it would put the dead session back in the cache.
   */
  readonly #revoked = new Set<string>();
  readonly #unsubscribe: () => void;

  constructor(options: SessionManagerOptions) {
    this.#o = { cacheTtlMs: 30_000, cacheEntriesMax: 100_000, ...options };
    this.#unsubscribe = this.#o.bus.subscribe(REVOKE_CHANNEL, (hash) => this.#forget(hash));
  }

  #forget(hash: string): void {
    this.#uncache(this.#tokenByHash.get(hash));
    this.#revoked.delete(hash);
    this.#revoked.add(hash);
    if (this.#revoked.size > REVOKED_REMEMBERED_MAX) this.#revoked.delete(this.#revoked.values().next().value!);
  }

  /** A new session, ending after the TTL or at `notAfterMs` (the SIWE message's Expiration Time), whichever is first. */
  async create(address: string, accountId: number, notAfterMs?: number): Promise<{ token: string; expiresAt: number }> {
    const token = randomBytes(TOKEN_BYTES).toString("base64url");
    const now = this.#o.now();
    const expiresAt = Math.min(now + this.#o.ttlMs, notAfterMs ?? Number.POSITIVE_INFINITY);
    const session: Session = { address, accountId, expiresAt };
    await this.#o.kv.set(key(hashToken(token)), JSON.stringify(session), Math.max(1, expiresAt - now));
    return { token, expiresAt };
  }

  /** The live session of a token, or null when unknown, revoked, expired or malformed. */
  async authenticate(token: string): Promise<Session | null> {
    const now = this.#o.now();
    const cached = this.#cache.get(token);
    if (cached && now - cached.checkedAt < this.#o.cacheTtlMs) {
      if (cached.session.expiresAt > now) return cached.session;
      this.#uncache(token);
      return null;
    }
    if (!TOKEN_PATTERN.test(token)) return null;
    const hash = hashToken(token);
    const raw = await this.#o.kv.get(key(hash));
    if (!raw || this.#revoked.has(hash)) {
      this.#uncache(token);
      return null;
    }
    const session = parseSession(raw);
    if (!session || session.expiresAt <= now) return null;
    if (this.#cache.size >= this.#o.cacheEntriesMax) this.#uncache(this.#cache.keys().next().value);
    this.#uncache(token);
    this.#cache.set(token, { session, checkedAt: now, hash });
    this.#tokenByHash.set(hash, token);
    return session;
  }

  #uncache(token: string | undefined): void {
    if (token === undefined) return;
    const entry = this.#cache.get(token);
    if (!entry) return;
    this.#cache.delete(token);
    this.#tokenByHash.delete(entry.hash);
  }

  /** Ends a session everywhere: the store forgets it and every process drops its cached copy. */
  async revoke(token: string): Promise<void> {
    if (!TOKEN_PATTERN.test(token)) return;
    const hash = hashToken(token);
    this.#forget(hash);
    await this.#o.kv.del(key(hash));
    await this.#o.bus.publish(REVOKE_CHANNEL, hash);
  }

  close(): void {
    this.#unsubscribe();
    this.#cache.clear();
    this.#tokenByHash.clear();
  }
}

/** A stored session, or null for anything else (a corrupt entry must not become a 500). */
function parseSession(raw: string): Session | null {
  try {
    const v = JSON.parse(raw) as Partial<Session>;
    if (typeof v.address !== "string" || !Number.isSafeInteger(v.accountId) || !Number.isSafeInteger(v.expiresAt)) return null;
    return { address: v.address, accountId: v.accountId!, expiresAt: v.expiresAt! };
  } catch {
    return null;
  }
}

function key(hash: string) {
  return `session:${hash}`;
}

export function hashToken(token: string): string {
  // node:crypto (OpenSSL) rather than a JS hash: this runs on every authenticated request.
  return createHash("sha256").update(token).digest("hex");
}
