import { describe, expect, it } from "vitest";
import { recoverPersonalSigner } from "../domain/eip191.ts";
import { formatBand, formatMicroUsd, formatMultiplier } from "../web/src/format.ts";
import { refusalSentence } from "../web/src/refusals.ts";
import { decideTap, DEFAULT_SLIPPAGE_BP, minMultiplierFor, newIdempotencyKey } from "../web/src/tap.ts";
import { Market } from "../web/src/market.ts";
import { addressOfKey, personalSign } from "../web/src/wallet.ts";
import { privateKeyToAccount } from "viem/accounts";

/** The demo page's pure parts: what a tap sends, what a refusal reads, how the demo wallet signs. */
describe("web: the page's pure parts", () => {
  it("sends the shown multiplier less the allowance, rounded up to the cent (never below the allowance)", () => {
    expect(DEFAULT_SLIPPAGE_BP).toBeLessThanOrEqual(300);
    expect(minMultiplierFor(347, 300)).toBe(3.37); // 3.47 × 0.97 = 3.3659 → 3.37
    expect(minMultiplierFor(200, 300)).toBe(1.94);
    expect(minMultiplierFor(110, 0)).toBe(1.1);
    for (let shown = 110; shown <= 10_000; shown += 37) {
      const min = minMultiplierFor(shown, 300);
      expect(min * 100).toBeCloseTo(Math.round(min * 100), 9);
      expect(min).toBeGreaterThanOrEqual((shown / 100) * 0.97 - 1e-9);
      expect(min).toBeLessThanOrEqual(shown / 100);
      // The server reads minMultiplier as ceil(x·100 − 1e-6) hundredths: the same number.
      expect(Math.ceil(min * 100 - 1e-6)).toBe(Math.ceil((shown * 9700) / 10_000));
    }
    expect(() => minMultiplierFor(0, 300)).toThrow(RangeError);
  });

  it("takes the allowance from the multiplier on screen at the tap, never from a newer quote the player has not seen", () => {
    // The freshest quote moved up, or down within the allowance: sent, relative to what was shown.
    expect(decideTap(347, 360, 300)).toEqual({ send: true, minMultiplier: 3.37 });
    expect(decideTap(347, 337, 300)).toEqual({ send: true, minMultiplier: 3.37 });
    // Down beyond it (3.36 < 3.47 × 0.97): nothing is sent; the page shows 3.36 and the player taps again.
    expect(decideTap(347, 336, 300)).toEqual({ send: false, movedToHundredths: 336 });
    for (let shown = 110; shown <= 3000; shown += 13) {
      for (const fresh of [shown - 200, shown - 11, shown, shown + 50]) {
        if (fresh < 101) continue;
        const decision = decideTap(shown, fresh, 300);
        if (decision.send) expect(decision.minMultiplier * 100).toBeGreaterThanOrEqual(shown * 0.97 - 1e-9);
        else expect(fresh).toBeLessThan(shown * 0.97);
      }
    }
  });

  it("numbers ticks: a repeated tick is ignored, a jump in seq or a new epoch is a gap the page re-syncs after", () => {
    const market = new Market();
    const price = (seq: number, epoch = "e1", at = 1000 + seq) => ({ type: "price", seq, epoch, priceCents: 9_500_000 + seq, at });
    expect(market.onPrice(price(1))).toBe("ok");
    expect(market.onPrice(price(2))).toBe("ok");
    expect(market.onPrice(price(2))).toBe("ignored"); // sent again right after a reconnect's hello
    expect(market.onPrice(price(5))).toBe("gap");
    expect(market.onPrice(price(6))).toBe("ok");
    expect(market.onPrice(price(1, "e2", 2000))).toBe("gap"); // a new core
    expect(market.ticks.map((t) => t.priceCents)).toEqual([9_500_001, 9_500_002, 9_500_005, 9_500_006, 9_500_001]);
  });

  it("makes a fresh idempotency key per tap", () => {
    const keys = new Set(Array.from({ length: 100 }, () => newIdempotencyKey()));
    expect(keys.size).toBe(100);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{32}$/);
  });

  it("turns every refusal of API.md § Bets into a short sentence", () => {
    const say = (code: string, details?: Record<string, unknown>) => refusalSentence({ status: 409, code, message: "m", details }, 25_000_000);
    expect(say("insufficient_balance")).toBe("Not enough balance for a $25.00 stake.");
    expect(say("multiplier_changed", { multiplier: 3.2 })).toBe("The multiplier moved to 3.20x, beyond your allowance. Tap again to take it.");
    for (const code of ["cell_locked", "cell_not_offered", "exposure_limit", "rate_limited", "too_many_open_bets", "price_stale", "overloaded"]) {
      const sentence = say(code);
      expect(sentence).toMatch(/^[A-Z].*\.$/);
      expect(sentence).not.toContain(code);
    }
    expect(say("something_new")).toBe("Bet refused: m.");
  });

  it("formats money and bands as a player reads them", () => {
    expect(formatMicroUsd(1_000_000_000)).toBe("$1,000.00");
    expect(formatMicroUsd(3_599_999)).toBe("$3.59"); // never shown larger than it is
    expect(formatBand(9_512_000, 9_513_000)).toBe("$95,120 – $95,130");
    expect(formatMultiplier(347)).toBe("3.47x");
  });

  it("signs with the demo key exactly as a wallet does (EIP-191 personal_sign, low s, v 27/28)", async () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const hex = `0x${Buffer.from(key).toString("hex")}` as const;
    const account = privateKeyToAccount(hex);
    expect(addressOfKey(key)).toBe(account.address);
    const message = "localhost:3000 wants you to sign in with your Ethereum account:\nnonce ü";
    const signature = personalSign(message, key);
    expect(signature).toBe(await account.signMessage({ message }));
    expect(recoverPersonalSigner(message, signature)).toEqual({ ok: true, address: account.address });
  });
});
