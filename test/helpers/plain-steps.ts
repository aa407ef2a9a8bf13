import { expect } from 'vitest';
import type { CliResult } from './cli.js';

/** PlainStep is one `#N [k/n] ...` line of plain progress: whether it was reported CACHED and whether it ran. */
export interface PlainStep {
  readonly name: string;
  readonly cached: boolean;
  readonly ran: boolean;
}

/** plainSteps lists the Dockerfile steps of plain progress output (`[2/5]`, or `[build 2/5]` in a multi-stage build). */
export function plainSteps(stderr: string): PlainStep[] {
  return stderr
    .split('\n')
    .filter((l) => /^#\d+ \[(?:\S+ )?\s*\d+\/\d+\]/.test(l))
    .map((line) => {
      const n = line.split(' ')[0] ?? '';
      return { name: line.slice(n.length + 1), cached: stderr.includes(`${n} CACHED`), ran: stderr.includes(`${n} DONE`) };
    });
}

/** ranSteps names the steps of plain progress that ran (were not CACHED), without their `[stage k/n]` prefix. */
export function ranSteps(stderr: string): string[] {
  return plainSteps(stderr)
    .filter((s) => !s.cached)
    .map((s) => s.name.replace(/^\[[^\]]*\] /, ''));
}

/** expectAllCached asserts a build succeeded with every step (at least five) reported CACHED and no RUN output. */
export function expectAllCached(res: CliResult): void {
  expect(res.code, res.stderr).toBe(0);
  const list = plainSteps(res.stderr);
  expect(list.length).toBeGreaterThanOrEqual(5);
  for (const s of list) expect(s.cached, `${s.name} was not cached:\n${res.stderr}`).toBe(true);
  // RUN output lines look like `#N 0.123 text`: none may appear.
  expect(res.stderr).not.toMatch(/#\d+ \d+\.\d+ /);
}
