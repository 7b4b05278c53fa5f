import { defineHandler } from "h3";
import { useApp } from "../../../runtime/context.ts";
import { readJson } from "../../../runtime/body.ts";
import { ipSet, requestIp } from "../../../runtime/client-ip.ts";
import { issueChallenge } from "../../../services/auth/challenge.ts";
import { nonceBody } from "../../../services/api-docs/requests.ts";

/** POST /api/auth/nonce → a single-use nonce for the address and the EIP-4361 message to sign; per-IP rate. */
export default defineHandler(async (event) => {
  const ctx = useApp(event);
  const { address } = await readJson(event, nonceBody);
  return issueChallenge(ctx, address, requestIp(event, ipSet(ctx.config.TRUSTED_PROXIES)));
});
