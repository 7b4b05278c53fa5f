import { isIP } from "node:net";
import type { H3Event } from "h3";

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/**
 * The client address for per-IP limits. The app listens behind nginx on the same host, which sets
 * `X-Real-IP: $remote_addr` (overwriting anything a client sent), so a request from a loopback peer
 * that carries a valid `X-Real-IP` is that client's; from any other peer the header is ignored
 * (it would let a client choose its own bucket). Returns "unknown" when the peer has no address.
 */
export function clientIp(event: H3Event): string {
  return resolveClientIp(event.req.ip, event.req.headers.get("x-real-ip"));
}

/** A client on this host (the operator's tools, benchmarks): nginx's limit zones exempt it too (nginx/tap.conf). */
export function isLoopbackIp(ip: string): boolean {
  return LOOPBACK.test(ip);
}

/** Pure part of `clientIp`: the peer address and the X-Real-IP header as received. */
export function resolveClientIp(peer: string | undefined, realIp: string | null): string {
  if (peer && LOOPBACK.test(peer) && realIp) {
    const candidate = realIp.trim();
    if (isIP(candidate)) return candidate;
  }
  return peer ?? "unknown";
}
