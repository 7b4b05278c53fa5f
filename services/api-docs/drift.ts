import type { z } from "zod";
import type { BetJson } from "../bets/bet-json.ts";
import type { LedgerEntryJson } from "../bets/rows.ts";
import type { ExposureReport } from "../bets/exposure-report.ts";
import type { IntegrityReport } from "../bets/integrity.ts";
import type { ArchiveReport } from "../archive/archiver.ts";
import type { Challenge } from "../auth/challenge.ts";
import type { SignInResult } from "../auth/sign-in.ts";
import type { Profile } from "../auth/profile.ts";
import type { Proof } from "../resolver/proof.ts";
import type { GridCellJson } from "../pricing/grid-json.ts";
import type { HelloMessage } from "../realtime/messages.ts";
import type { QuoteTerms } from "../../domain/pricing/quote.ts";
import type { encodeQuote } from "../../domain/pricing/quote-wire.ts";
import type * as R from "./responses.ts";
import type * as W from "./ws-messages.ts";

/**
 * Compile-time guard (no runtime code): what the services return must fit the documented response
 * schemas. When a service type changes, `tsc` fails here until responses.ts follows; the runtime test
 * (tests/openapi.responses.test.ts) catches the rest (closed objects, values).
 */
type Fits<Actual, Documented> = [Actual] extends [Documented] ? true : false;
type Check<T extends true> = T;

export type DocumentedShapes = [
  Check<Fits<BetJson, z.output<typeof R.betBody>>>,
  Check<Fits<LedgerEntryJson, z.output<typeof R.ledgerEntry>>>,
  Check<Fits<ExposureReport, z.output<typeof R.exposureBody>>>,
  Check<Fits<IntegrityReport, z.output<typeof R.integrityBody>>>,
  Check<Fits<ArchiveReport, z.output<typeof R.archiveReport>>>,
  Check<Fits<Challenge, z.output<typeof R.challengeBody>>>,
  Check<Fits<SignInResult, z.output<typeof R.sessionBody>>>,
  Check<Fits<Profile, z.output<typeof R.profileBody>>>,
  Check<Fits<Proof, z.output<typeof R.proofBody>>>,
  Check<Fits<GridCellJson, z.output<typeof R.gridCell>>>,
  Check<Fits<HelloMessage, z.output<typeof W.wsHello>>>,
  Check<Fits<QuoteTerms, z.output<typeof W.wsQuoteTerms>>>,
  Check<Fits<ReturnType<typeof encodeQuote>, z.output<typeof W.wsQuote>>>,
];
