import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { createSiweMessage, parseSiweMessage as viemParse } from "viem/siwe";
import { buildSiweMessage, isUri, parseDateTime, parseSiweMessage, SIWE_LIMITS, type SiweFields } from "../domain/siwe.ts";

const ADDRESS = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2";

// The example message of the EIP-4361 text.
const EIP_EXAMPLE = `service.invalid wants you to sign in with your Ethereum account:
${ADDRESS}

I accept the ServiceOrg Terms of Service: https://service.invalid/tos

URI: https://service.invalid/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json`;

const BASE: SiweFields = {
  domain: "localhost:3000",
  address: ADDRESS,
  uri: "http://localhost:3000",
  chainId: 1,
  nonce: "abcdefgh12345678",
  issuedAtMs: Date.UTC(2024, 0, 1),
};

function expectFail(text: string, field: string) {
  const result = parseSiweMessage(text);
  expect(result.ok, `should reject: ${JSON.stringify(text)}`).toBe(false);
  if (!result.ok) expect(result.field).toBe(field);
}

describe("SIWE parser: accepts the grammar", () => {
  it("parses the example of the EIP", () => {
    const result = parseSiweMessage(EIP_EXAMPLE);
    expect(result).toMatchObject({
      ok: true,
      message: {
        domain: "service.invalid",
        address: ADDRESS,
        statement: "I accept the ServiceOrg Terms of Service: https://service.invalid/tos",
        uri: "https://service.invalid/login",
        version: "1",
        chainId: "1",
        nonce: "32891756",
        issuedAtMs: Date.UTC(2021, 8, 30, 16, 25, 24),
        resources: ["ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/", "https://example.com/my-web2-claim.json"],
      },
    });
  });

  it("parses the example with a scheme, without a statement, and with an empty statement", () => {
    const withScheme = parseSiweMessage(`https://${EIP_EXAMPLE}`);
    expect(withScheme).toMatchObject({ ok: true, message: { scheme: "https", domain: "service.invalid" } });
    const noStatement = EIP_EXAMPLE.replace("I accept the ServiceOrg Terms of Service: https://service.invalid/tos\n", "");
    const parsed = parseSiweMessage(noStatement);
    expect(parsed.ok && parsed.message.statement).toBe(undefined);
    expect(parsed.ok).toBe(true);
    const empty = EIP_EXAMPLE.replace("I accept the ServiceOrg Terms of Service: https://service.invalid/tos", "");
    expect(parseSiweMessage(empty)).toMatchObject({ ok: true, message: { statement: "" } });
  });

  it("reads every field viem writes, as viem's own parser reads them", () => {
    const text = createSiweMessage({
      scheme: "https",
      domain: "app.example.com:8443",
      address: ADDRESS,
      statement: "Sign in, please; terms at https://app.example.com/tos?x=1#y",
      uri: "https://app.example.com:8443/login?next=%2Fhome",
      version: "1",
      chainId: 8453,
      nonce: "Zx9aBcDeFgHiJkLmN0pQ",
      issuedAt: new Date("2024-05-06T07:08:09.123Z"),
      expirationTime: new Date("2024-05-06T07:18:09.123Z"),
      notBefore: new Date("2024-05-06T07:00:00.000Z"),
      requestId: "req-42_abc~:@!$",
      resources: ["https://app.example.com/a", "urn:isbn:0451450523", "ipfs://bafy/"],
    });
    const ours = parseSiweMessage(text);
    const theirs = viemParse(text);
    expect(ours.ok).toBe(true);
    if (!ours.ok) return;
    const m = ours.message;
    expect(m).toMatchObject({
      scheme: theirs.scheme,
      domain: theirs.domain,
      address: theirs.address,
      statement: theirs.statement,
      uri: theirs.uri,
      nonce: theirs.nonce,
      requestId: theirs.requestId,
      resources: theirs.resources,
    });
    expect(Number(m.chainId)).toBe(theirs.chainId);
    expect(m.issuedAtMs).toBe(theirs.issuedAt!.getTime());
    expect(m.expirationTimeMs).toBe(theirs.expirationTime!.getTime());
    expect(m.notBeforeMs).toBe(theirs.notBefore!.getTime());
  });

  it("writes what it reads: builder → parser round trip (property)", () => {
    const alnum = fc.stringMatching(/^[A-Za-z0-9]{8,40}$/);
    const statement = fc.stringMatching(/^[A-Za-z0-9 .,:;!?'()/@&=+$#-]{0,80}$/);
    const time = fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) });
    fc.assert(
      fc.property(alnum, fc.option(statement, { nil: undefined }), time, fc.option(time, { nil: undefined }), fc.nat(), (nonce, st, issuedAtMs, exp, chainId) => {
        const fields: SiweFields = { ...BASE, nonce, issuedAtMs, chainId, ...(st !== undefined ? { statement: st } : {}), ...(exp !== undefined ? { expirationTimeMs: exp } : {}) };
        const result = parseSiweMessage(buildSiweMessage(fields));
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        const m = result.message;
        expect([m.nonce, m.issuedAtMs, m.chainId, m.statement, m.expirationTimeMs]).toEqual([nonce, issuedAtMs, String(chainId), st, exp]);
      }),
      { numRuns: 300 },
    );
  });

  it("accepts IP literals, userinfo and ports in the domain", () => {
    for (const domain of ["[::1]:3000", "127.0.0.1:8080", "user:pw@host.example", "[2001:db8::8a2e:370:7334]", "[::ffff:192.0.2.1]", "localhost"]) {
      expect(parseSiweMessage(buildSiweMessage({ ...BASE, domain })).ok, domain).toBe(true);
    }
  });
});

describe("SIWE parser: refuses everything else", () => {
  const good = buildSiweMessage({ ...BASE, statement: "Hi.", expirationTimeMs: BASE.issuedAtMs + 1, requestId: "r1", resources: ["https://a.example/x"] });

  it("accepts the reference message used below", () => {
    expect(parseSiweMessage(good).ok).toBe(true);
  });

  it("refuses deviations in layout and line breaks", () => {
    expectFail(good.replaceAll("\n", "\r\n"), "message");
    expectFail(`${good}\n`, "resources");
    expectFail(good.replace(" wants you to sign in", " wants you to sign-in"), "header");
    expectFail(good.replace(`${ADDRESS}\n\n`, `${ADDRESS}\n`), "statement");
    expectFail(good.replace("Hi.\n\n", "Hi.\n"), "statement");
    expectFail(good.replace("Version: 1\nChain ID: 1", "Chain ID: 1\nVersion: 1"), "version");
    const reordered = buildSiweMessage({ ...BASE, expirationTimeMs: 1 }).replace("Issued At: 2024-01-01T00:00:00.000Z\nExpiration Time", "Expiration Time");
    expectFail(reordered, "issuedAt");
    expectFail(`${buildSiweMessage(BASE)}\nFavourite Colour: blue`, "message");
    expectFail(buildSiweMessage({ ...BASE, expirationTimeMs: 1, notBeforeMs: 0 }).replace(/\n(Expiration Time: .*)\n(Not Before: .*)$/, "\n$2\n$1"), "expirationTime");
    expectFail(`${buildSiweMessage({ ...BASE, requestId: "x" })}\nRequest ID: y`, "requestId");
  });

  it("refuses bad field values, each named", () => {
    expectFail(good.replace(ADDRESS, ADDRESS.toLowerCase()), "address");
    expectFail(good.replace(ADDRESS, ADDRESS.replace("C02a", "c02A")), "address");
    expectFail(good.replace(ADDRESS, ADDRESS.slice(0, 41)), "address");
    expectFail(good.replace("Hi.", 'He said "hi"'), "statement");
    expectFail(good.replace("Hi.", "50% off"), "statement");
    expectFail(good.replace("Hi.", "héllo"), "message");
    expectFail(good.replace("localhost:3000 wants", "local host wants"), "domain");
    expectFail(good.replace("localhost:3000 wants", "localhost/x wants"), "domain");
    expectFail(good.replace("localhost:3000 wants", "[::g]:1 wants"), "domain");
    expectFail(good.replace("localhost:3000 wants", "1http://localhost:3000 wants"), "scheme");
    expectFail(good.replace("URI: http://localhost:3000", "URI: /login"), "uri");
    expectFail(good.replace("URI: http://localhost:3000", "URI: http://local host"), "uri");
    expectFail(good.replace("Version: 1", "Version: 2"), "version");
    expectFail(good.replace("Chain ID: 1", "Chain ID: 0x1"), "chainId");
    expectFail(good.replace("Chain ID: 1", "Chain ID: "), "chainId");
    expectFail(good.replace("Chain ID: 1", `Chain ID: ${"9".repeat(21)}`), "chainId");
    expectFail(good.replace("Nonce: abcdefgh12345678", "Nonce: short1"), "nonce");
    expectFail(good.replace("Nonce: abcdefgh12345678", "Nonce: abcd-efgh-1234"), "nonce");
    expectFail(good.replace("Nonce: abcdefgh12345678", `Nonce: ${"a".repeat(65)}`), "nonce");
    expectFail(good.replace("Issued At: 2024-01-01T00:00:00.000Z", "Issued At: 2024-02-30T00:00:00Z"), "issuedAt");
    expectFail(good.replace("Issued At: 2024-01-01T00:00:00.000Z", "Issued At: 2024-01-01 00:00:00Z"), "issuedAt");
    expectFail(good.replace("Issued At: 2024-01-01T00:00:00.000Z", "Issued At: 2024-01-01T00:00:00"), "issuedAt");
    expectFail(good.replace("Issued At: 2024-01-01T00:00:00.000Z", "Issued At: 1704067200000"), "issuedAt");
    expectFail(good.replace(/Expiration Time: .*/, "Expiration Time: tomorrow"), "expirationTime");
    expectFail(good.replace("Request ID: r1", "Request ID: r 1"), "requestId");
    expectFail(good.replace("- https://a.example/x", "- not a uri"), "resources");
    expectFail(good.replace("- https://a.example/x", "https://a.example/x"), "resources");
  });

  it("enforces the length limits", () => {
    expectFail(buildSiweMessage({ ...BASE, statement: "a".repeat(SIWE_LIMITS.statementChars + 1) }), "statement");
    expect(parseSiweMessage(buildSiweMessage({ ...BASE, statement: "a".repeat(SIWE_LIMITS.statementChars) })).ok).toBe(true);
    expectFail(buildSiweMessage({ ...BASE, uri: `http://a.example/${"p".repeat(SIWE_LIMITS.uriChars)}` }), "uri");
    expectFail(buildSiweMessage({ ...BASE, domain: `${"d".repeat(SIWE_LIMITS.domainChars)}.example` }), "domain");
    const many = Array.from({ length: SIWE_LIMITS.resourcesMax + 1 }, (_, i) => `https://r.example/${i}`);
    expectFail(buildSiweMessage({ ...BASE, resources: many }), "resources");
    expectFail(`${good}${"x".repeat(SIWE_LIMITS.messageChars)}`, "message");
  });

  it("never throws, whatever the input (property)", () => {
    const lines = fc.array(fc.oneof(fc.string(), fc.constantFrom(...good.split("\n"))), { maxLength: 20 });
    fc.assert(
      fc.property(lines, (ls) => {
        const result = parseSiweMessage(ls.join("\n"));
        expect(typeof result.ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.string({ minLength: 0, maxLength: 3 }), (at, insert) => {
        const mutated = good.slice(0, at) + insert + good.slice(at + 1);
        expect(typeof parseSiweMessage(mutated).ok).toBe("boolean");
      }),
      { numRuns: 2000 },
    );
  });
});

describe("RFC 3339 and RFC 3986 pieces", () => {
  it("reads date-times with offsets, fractions and leap days like Date.parse", () => {
    for (const s of ["2024-02-29T23:59:59Z", "2021-09-30T16:25:24+02:00", "2021-09-30T16:25:24.5-07:30", "1970-01-01T00:00:00.999999Z", "0001-01-01T00:00:00Z"]) {
      expect(parseDateTime(s), s).toBe(Date.parse(s.replace(".999999", ".999")));
    }
    expect(parseDateTime("2023-02-29T00:00:00Z")).toBeNull();
    expect(parseDateTime("2024-13-01T00:00:00Z")).toBeNull();
    expect(parseDateTime("2024-01-01T24:00:00Z")).toBeNull();
    expect(parseDateTime("2024-01-01T00:00:00+24:00")).toBeNull();
    expect(parseDateTime("2024-01-01t00:00:00z")).toBe(Date.UTC(2024, 0, 1));
  });

  it("tells absolute URIs from everything else", () => {
    for (const u of ["https://a.example", "http://[::1]:3000/x?y#z", "urn:isbn:0451450523", "mailto:a@b.example", "ipfs://bafy/", "did:pkh:eip155:1:0xabc", "file:///etc/hosts"]) {
      expect(isUri(u), u).toBe(true);
    }
    for (const u of ["", "/relative", "//a.example", "http://a b", "ht tp://x", "http://a.example/%zz", "http://[::1", "1http://x", "http://a.example/<x>"]) {
      expect(isUri(u), u).toBe(false);
    }
  });
});
