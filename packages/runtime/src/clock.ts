/**
 * Milliseconds between two performance.now() readings, to the microsecond: the clock's own
 * resolution is coarser than the 15 decimals of the raw difference, which read as noise in stats and logs.
 */
export function elapsedMs(started: number, ended: number = performance.now()): number {
  return Math.round((ended - started) * 1000) / 1000;
}
