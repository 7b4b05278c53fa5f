import { defineHandler } from "h3";
import { z } from "zod";
import { useApp } from "../../../runtime/context.ts";
import { readJson } from "../../../runtime/body.ts";
import { clientIp } from "../../../runtime/client-ip.ts";
import { parseAddress } from "../../../domain/eip55.ts";
import { issueChallenge } from "../../../services/auth/challenge.ts";

const body = z.object({
  address: z
    .string()
    .max(42)
    .transform((v, c) => parseAddress(v) ?? (c.addIssue({ code: "custom", message: "expected an Ethereum address (0x + 40 hex, valid EIP-55 checksum if mixed case)" }), z.NEVER)),
});

/** POST /api/auth/nonce → a single-use nonce for the address and the EIP-4361 message to sign; per-IP rate. */
export default defineHandler(async (event) => {
  const ctx = useApp(event);
  const { address } = await readJson(event, body);
  return issueChallenge(ctx, address, clientIp(event));
});
