/** What the resolver needs of an open bet to settle it (SPEC §5). */
export interface OpenBet {
  id: number;
  accountId: number;
  address: string;
  col: number;
  row: number;
  windowStart: number;
  windowEnd: number;
  bandLowCents: number;
  bandHighCents: number;
  stakeMicroUsd: number;
  payoutMicroUsd: number;
}

/** The contract of the resolver module (services/resolver/). */
export interface ResolverService {
  /** Starts watching a bet that was just committed (the bets module calls this after commit). */
  track(bet: OpenBet): void;
  /** Open bets currently indexed. */
  openCount(): number;
}
