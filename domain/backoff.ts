/**
 * Capped exponential backoff: `baseMs` after the first failure, doubling after each further one,
 * never more than `maxMs` (a failed settlement then commits within `maxMs` of the disk having room
 * again). Settlements and the archiver wait this long; exchange reconnects add jitter to it.
 */
export function retryDelayMs(failures: number, baseMs: number, maxMs: number): number {
  if (failures < 1) return 0;
  const exponent = Math.min(failures - 1, 30);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}
