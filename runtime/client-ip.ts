import { isIP } from "node:net";
import type { H3Event } from "h3";

/**
 * The address a request comes from. The socket's peer, unless that peer is a trusted proxy
 * (TRUSTED_PROXIES, nginx on the same host by default): then the right-most X-Forwarded-For entry
 * that is not itself a trusted proxy (nginx appends the address it saw; anything to the left of it
 * was written by the client and proves nothing). Without a usable header the peer itself is used.
 */
export function clientIp(peer: string | undefined, forwardedFor: string | null, trustedProxies: ReadonlySet<string>): string {
  const socketIp = normaliseIp(peer ?? "");
  if (!trustedProxies.has(socketIp) || !forwardedFor) return socketIp;
  const hops = forwardedFor.split(",", 32);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normaliseIp(hops[i]!.trim());
    if (isIP(hop) === 0) return socketIp; // a malformed hop: trust nothing further left
    if (!trustedProxies.has(hop)) return hop;
  }
  return socketIp;
}

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) → `1.2.3.4`, so one client has one key. */
export function normaliseIp(ip: string): string {
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip.toLowerCase();
}

/** Parses a comma list of addresses (config) into a set of normalised addresses. */
export function ipSet(list: readonly string[]): Set<string> {
  return new Set(list.map(normaliseIp));
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)$/;

/** A client on this host (the operator's tools, benchmarks): nginx's limit zones exempt it too (nginx/tap.conf). */
export function isLoopbackIp(ip: string): boolean {
  return LOOPBACK.test(normaliseIp(ip));
}

/** `clientIp` of a request, with the configured trusted proxies. */
export function requestIp(event: H3Event, trustedProxies: ReadonlySet<string>): string {
  return clientIp((event.req as { ip?: string }).ip, event.req.headers.get("x-forwarded-for"), trustedProxies);
}
