import type { Parameters } from 'fast-check';

/**
 * The fuzz targets run a short, fixed budget in the test suite: a fixed seed and a fixed number of runs, so a failure
 * repeats exactly (fast-check prints the seed and the shrunk counterexample). `scripts/fuzz.sh` runs them longer:
 * FUZZ_RUNS sets the runs, FUZZ_SECONDS a time budget per target instead, FUZZ_SEED another seed.
 */
export const FUZZ_SEED = Number(process.env['FUZZ_SEED'] ?? 20261207);

/** fuzzParams gives fast-check the seed and the budget of one target; defaultRuns is its share in the test suite. */
export function fuzzParams<T>(defaultRuns: number, extra: Parameters<T> = {}): Parameters<T> {
  const seconds = Number(process.env['FUZZ_SECONDS'] ?? 0);
  const runs = process.env['FUZZ_RUNS'] !== undefined ? Number(process.env['FUZZ_RUNS']) : seconds > 0 ? Number.MAX_SAFE_INTEGER : defaultRuns;
  const timed: Parameters<T> = seconds > 0 ? { interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false } : {};
  return { seed: FUZZ_SEED, numRuns: runs, ...timed, ...extra };
}

/** fuzzTimeout is a test's time limit: generous in the suite, the budget plus a margin when FUZZ_SECONDS is set. */
export function fuzzTimeout(suiteMs: number): number {
  const seconds = Number(process.env['FUZZ_SECONDS'] ?? 0);
  if (process.env['FUZZ_RUNS'] !== undefined) return 24 * 3600 * 1000;
  return seconds > 0 ? seconds * 1000 * 3 + suiteMs : suiteMs;
}
