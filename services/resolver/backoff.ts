/**
 * Delay before the next attempt of a failed settlement: `baseMs` after the first failure, doubling
 * after each further one, never more than `maxMs` (so a bet settles within `maxMs` of the disk
 * having room again).
 */
export function retryDelayMs(failures: number, baseMs: number, maxMs: number): number {
  if (failures < 1) return 0;
  const exponent = Math.min(failures - 1, 30);
  return Math.min(baseMs * 2 ** exponent, maxMs);
}
