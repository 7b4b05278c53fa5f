import { isChecksumAddress } from "./eip55.ts";

/**
 * Sign-In with Ethereum (EIP-4361) messages: a parser that accepts exactly the ABNF of the
 * standard (with a length limit on every field, so a hostile message costs little), and the
 * builder the nonce endpoint uses. Pure: no I/O, no clock.
 *
 *   [ scheme "://" ] domain " wants you to sign in with your Ethereum account:" LF
 *   address LF LF [ statement LF ] LF
 *   "URI: " uri LF "Version: " version LF "Chain ID: " chain-id LF "Nonce: " nonce LF
 *   "Issued At: " issued-at [ LF "Expiration Time: " .. ] [ LF "Not Before: " .. ]
 *   [ LF "Request ID: " request-id ] [ LF "Resources:" *( LF "- " URI ) ]
 */

export interface SiweMessage {
  scheme?: string;
  domain: string;
  /** EIP-55 checksummed (the grammar requires it). */
  address: string;
  statement?: string;
  uri: string;
  version: "1";
  /** Decimal digits as written (EIP-155 ids can exceed 2^53, so compare with BigInt). */
  chainId: string;
  nonce: string;
  issuedAt: string;
  issuedAtMs: number;
  expirationTime?: string;
  expirationTimeMs?: number;
  notBefore?: string;
  notBeforeMs?: number;
  requestId?: string;
  resources?: string[];
}

export type SiweParseResult = { ok: true; message: SiweMessage } | { ok: false; field: string; reason: string };

/** Upper bounds in characters. The standard has none; a server must. */
export const SIWE_LIMITS = {
  messageChars: 8192,
  schemeChars: 32,
  domainChars: 255,
  statementChars: 1024,
  uriChars: 2048,
  chainIdDigits: 20,
  nonceChars: 64,
  dateTimeChars: 64,
  requestIdChars: 256,
  resourcesMax: 32,
} as const;

const HEADER_SUFFIX = " wants you to sign in with your Ethereum account:";
const PRINTABLE_ASCII_AND_LF = /^[\x20-\x7e\n]*$/;

// RFC 3986 building blocks.
const PCT = "%[0-9A-Fa-f]{2}";
const UNRESERVED = "A-Za-z0-9\\-._~";
const SUB_DELIMS = "!$&'()*+,;=";
const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT})`;
const SCHEME = "[A-Za-z][A-Za-z0-9+\\-.]*";
const SCHEME_RE = new RegExp(`^${SCHEME}$`);
const USERINFO_RE = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT})*$`);
const REG_NAME_RE = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT})*$`);
const IPV_FUTURE_RE = new RegExp(`^[vV][0-9A-Fa-f]+\\.[${UNRESERVED}${SUB_DELIMS}:]+$`);
const PATH_ABEMPTY_RE = new RegExp(`^(?:/${PCHAR}*)*$`);
const PATH_ABSOLUTE_RE = new RegExp(`^/(?:${PCHAR}+(?:/${PCHAR}*)*)?$`);
const PATH_ROOTLESS_RE = new RegExp(`^${PCHAR}+(?:/${PCHAR}*)*$`);
const QUERY_OR_FRAGMENT_RE = new RegExp(`^(?:${PCHAR}|[/?])*$`);
const REQUEST_ID_RE = new RegExp(`^${PCHAR}*$`);
// statement = *( reserved / unreserved / " " ): printable ASCII minus  " % < > \ ^ ` { | }
const STATEMENT_RE = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;= ]*$/;
const NONCE_RE = /^[A-Za-z0-9]{8,}$/;
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const CHAIN_ID_RE = /^[0-9]+$/;
const DEC_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])";
const IPV4_RE = new RegExp(`^${DEC_OCTET}(?:\\.${DEC_OCTET}){3}$`);
const H16_RE = /^[0-9A-Fa-f]{1,4}$/;
const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3986 IPv6address: eight 16-bit groups, or fewer around one "::", an IPv4 tail counting two. */
export function isIPv6(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  let units = 0;
  for (let h = 0; h < halves.length; h++) {
    const half = halves[h]!;
    if (half === "") continue;
    const groups = half.split(":");
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i]!;
      const lastOfAll = h === halves.length - 1 && i === groups.length - 1;
      if (H16_RE.test(group)) units += 1;
      else if (lastOfAll && IPV4_RE.test(group)) units += 2;
      else return false;
    }
  }
  return halves.length === 2 ? units <= 7 : units === 8;
}

/** RFC 3986 authority = [ userinfo "@" ] host [ ":" port ]. */
export function isAuthority(text: string): boolean {
  const at = text.lastIndexOf("@");
  if (at >= 0 && !USERINFO_RE.test(text.slice(0, at))) return false;
  let hostPort = text.slice(at + 1);
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) return false;
    const literal = hostPort.slice(1, close);
    if (!isIPv6(literal) && !IPV_FUTURE_RE.test(literal)) return false;
    hostPort = hostPort.slice(close + 1);
    return hostPort === "" || /^:[0-9]*$/.test(hostPort);
  }
  const colon = hostPort.lastIndexOf(":");
  const host = colon >= 0 ? hostPort.slice(0, colon) : hostPort;
  const port = colon >= 0 ? hostPort.slice(colon + 1) : "";
  return REG_NAME_RE.test(host) && /^[0-9]*$/.test(port);
}

/** RFC 3986 URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ] (absolute, not a reference). */
export function isUri(text: string): boolean {
  const colon = text.indexOf(":");
  if (colon < 1 || !SCHEME_RE.test(text.slice(0, colon))) return false;
  let rest = text.slice(colon + 1);
  const hash = rest.indexOf("#");
  if (hash >= 0) {
    if (!QUERY_OR_FRAGMENT_RE.test(rest.slice(hash + 1))) return false;
    rest = rest.slice(0, hash);
  }
  const question = rest.indexOf("?");
  if (question >= 0) {
    if (!QUERY_OR_FRAGMENT_RE.test(rest.slice(question + 1))) return false;
    rest = rest.slice(0, question);
  }
  if (rest.startsWith("//")) {
    const slash = rest.indexOf("/", 2);
    const authority = slash >= 0 ? rest.slice(2, slash) : rest.slice(2);
    const path = slash >= 0 ? rest.slice(slash) : "";
    return isAuthority(authority) && PATH_ABEMPTY_RE.test(path);
  }
  return rest === "" || PATH_ABSOLUTE_RE.test(rest) || PATH_ROOTLESS_RE.test(rest);
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** RFC 3339 date-time → epoch ms (fractions below 1 ms truncated); null when not one. */
export function parseDateTime(text: string): number | null {
  const m = DATE_TIME_RE.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  const millis = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  let offsetMinutes = 0;
  const zone = m[8]!;
  if (zone !== "Z" && zone !== "z") {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return seconds * 1000 + millis;
}

type Fail = { ok: false; field: string; reason: string };
const fail = (field: string, reason: string): Fail => ({ ok: false, field, reason });

/** A "Prefix: value" line, checked against a limit and a predicate. */
function field(line: string | undefined, prefix: string, name: string, limit: number, valid: (v: string) => boolean): string | Fail {
  if (line === undefined || !line.startsWith(prefix)) return fail(name, `expected a line starting with "${prefix}"`);
  const value = line.slice(prefix.length);
  if (value.length > limit) return fail(name, `longer than ${limit} characters`);
  if (!valid(value)) return fail(name, "does not match the EIP-4361 grammar");
  return value;
}

function parseHeader(line: string): { scheme?: string; domain: string } | Fail {
  if (!line.endsWith(HEADER_SUFFIX)) return fail("header", `expected "<domain>${HEADER_SUFFIX}"`);
  const origin = line.slice(0, -HEADER_SUFFIX.length);
  const sep = origin.indexOf("://");
  const scheme = sep >= 0 ? origin.slice(0, sep) : undefined;
  const domain = sep >= 0 ? origin.slice(sep + 3) : origin;
  if (scheme !== undefined && (scheme.length > SIWE_LIMITS.schemeChars || !SCHEME_RE.test(scheme))) return fail("scheme", "not an RFC 3986 scheme");
  if (domain.length === 0 || domain.length > SIWE_LIMITS.domainChars) return fail("domain", `must have 1 to ${SIWE_LIMITS.domainChars} characters`);
  if (!isAuthority(domain)) return fail("domain", "not an RFC 3986 authority");
  return scheme === undefined ? { domain } : { scheme, domain };
}

const isFail = (v: unknown): v is Fail => typeof v === "object" && v !== null && (v as Fail).ok === false;

/** Parses an EIP-4361 message; any deviation from the grammar or a limit is a failure naming the field. */
export function parseSiweMessage(text: string): SiweParseResult {
  if (text.length > SIWE_LIMITS.messageChars) return fail("message", `longer than ${SIWE_LIMITS.messageChars} characters`);
  if (!PRINTABLE_ASCII_AND_LF.test(text)) return fail("message", "only printable ASCII and LF line breaks are allowed");
  const lines = text.split("\n");
  const header = parseHeader(lines[0]!);
  if (isFail(header)) return header;
  const address = lines[1];
  if (address === undefined || !ADDRESS_RE.test(address)) return fail("address", "expected 0x and 40 hex digits");
  if (!isChecksumAddress(address)) return fail("address", "not in EIP-55 checksum form");
  if (lines[2] !== "") return fail("statement", "expected an empty line after the address");
  let i = 3;
  let statement: string | undefined;
  if (!(lines[3] === "" && lines[4] !== "")) {
    statement = lines[3] ?? "";
    if (statement.length > SIWE_LIMITS.statementChars) return fail("statement", `longer than ${SIWE_LIMITS.statementChars} characters`);
    if (!STATEMENT_RE.test(statement)) return fail("statement", "contains characters the grammar excludes");
    if (lines[4] !== "") return fail("statement", "expected an empty line after the statement");
    i = 5;
  } else i = 4;
  return parseFields(lines, i, { ...header, address, statement });
}

function parseFields(lines: string[], start: number, head: Pick<SiweMessage, "scheme" | "domain" | "address" | "statement">): SiweParseResult {
  let i = start;
  const uri = field(lines[i++], "URI: ", "uri", SIWE_LIMITS.uriChars, isUri);
  if (isFail(uri)) return uri;
  const version = field(lines[i++], "Version: ", "version", 1, (v) => v === "1");
  if (isFail(version)) return version;
  const chainId = field(lines[i++], "Chain ID: ", "chainId", SIWE_LIMITS.chainIdDigits, (v) => CHAIN_ID_RE.test(v));
  if (isFail(chainId)) return chainId;
  const nonce = field(lines[i++], "Nonce: ", "nonce", SIWE_LIMITS.nonceChars, (v) => NONCE_RE.test(v));
  if (isFail(nonce)) return nonce;
  const issuedAt = field(lines[i++], "Issued At: ", "issuedAt", SIWE_LIMITS.dateTimeChars, (v) => parseDateTime(v) !== null);
  if (isFail(issuedAt)) return issuedAt;
  const message: SiweMessage = { ...head, uri, version: "1", chainId, nonce, issuedAt, issuedAtMs: parseDateTime(issuedAt)! };
  if (message.scheme === undefined) delete message.scheme;
  if (message.statement === undefined) delete message.statement;
  const optional: Array<[string, "expirationTime" | "notBefore"]> = [
    ["Expiration Time: ", "expirationTime"],
    ["Not Before: ", "notBefore"],
  ];
  for (const [prefix, name] of optional) {
    if (!lines[i]?.startsWith(prefix)) continue;
    const value = field(lines[i++], prefix, name, SIWE_LIMITS.dateTimeChars, (v) => parseDateTime(v) !== null);
    if (isFail(value)) return value;
    message[name] = value;
    message[`${name}Ms`] = parseDateTime(value)!;
  }
  if (lines[i]?.startsWith("Request ID: ")) {
    const requestId = field(lines[i++], "Request ID: ", "requestId", SIWE_LIMITS.requestIdChars, (v) => REQUEST_ID_RE.test(v));
    if (isFail(requestId)) return requestId;
    message.requestId = requestId;
  }
  if (lines[i] === "Resources:") {
    i++;
    const resources: string[] = [];
    while (i < lines.length) {
      if (resources.length >= SIWE_LIMITS.resourcesMax) return fail("resources", `more than ${SIWE_LIMITS.resourcesMax} resources`);
      const resource = field(lines[i++], "- ", "resources", SIWE_LIMITS.uriChars, isUri);
      if (isFail(resource)) return resource;
      resources.push(resource);
    }
    message.resources = resources;
  }
  if (i < lines.length) return fail(fieldAt(lines[i]!), "unexpected line (wrong order, unknown field or trailing line break)");
  return { ok: true, message };
}

function fieldAt(line: string): string {
  const known: Array<[string, string]> = [
    ["Expiration Time:", "expirationTime"],
    ["Not Before:", "notBefore"],
    ["Request ID:", "requestId"],
    ["Resources", "resources"],
  ];
  return known.find(([prefix]) => line.startsWith(prefix))?.[1] ?? "message";
}

export interface SiweFields {
  scheme?: string;
  domain: string;
  address: string;
  statement?: string;
  uri: string;
  chainId: number | bigint;
  nonce: string;
  issuedAtMs: number;
  expirationTimeMs?: number;
  notBeforeMs?: number;
  requestId?: string;
  resources?: string[];
}

/** RFC 3339 in UTC with milliseconds, as wallets and viem write it. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The EIP-4361 text of `fields` (the caller passes valid values; `parseSiweMessage` reads it back). */
export function buildSiweMessage(f: SiweFields): string {
  const origin = f.scheme ? `${f.scheme}://${f.domain}` : f.domain;
  const statement = f.statement !== undefined ? `${f.statement}\n` : "";
  let text = `${origin}${HEADER_SUFFIX}\n${f.address}\n\n${statement}\n`;
  text += `URI: ${f.uri}\nVersion: 1\nChain ID: ${f.chainId}\nNonce: ${f.nonce}\nIssued At: ${formatDateTime(f.issuedAtMs)}`;
  if (f.expirationTimeMs !== undefined) text += `\nExpiration Time: ${formatDateTime(f.expirationTimeMs)}`;
  if (f.notBeforeMs !== undefined) text += `\nNot Before: ${formatDateTime(f.notBeforeMs)}`;
  if (f.requestId !== undefined) text += `\nRequest ID: ${f.requestId}`;
  if (f.resources !== undefined) text += `\nResources:${f.resources.map((r) => `\n- ${r}`).join("")}`;
  return text;
}
