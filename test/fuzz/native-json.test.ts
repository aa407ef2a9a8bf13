import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_SEED, fuzzParams, fuzzTimeout } from './budget.js';

// The sandbox helper's JSON reader and config.json loader, built with AddressSanitizer and UndefinedBehaviorSanitizer
// by native/scripts/build-fuzz.sh; any finding aborts the harness with the sanitizer's report on stderr.
const run = promisify(execFile);
const NATIVE = join(import.meta.dirname, '../../native');
const SANITIZER_ENV = { ...process.env, ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1' };
let dir = '';
let harness = '';
let bundle = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tbuild-fuzz-native-'));
  harness = join(dir, 'json-fuzz');
  bundle = join(dir, 'bundle');
  await mkdir(bundle);
  await run(join(NATIVE, 'scripts/build-fuzz.sh'), [dir]);
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** check feeds inputs to the harness's check mode: whether the reader took each (and, with a bundle, loads each). */
function check(inputs: readonly string[], withBundle = false): Promise<{ taken: boolean[]; loaded: boolean[]; stderr: string; code: number | null }> {
  const frames = inputs.flatMap((text) => {
    const bytes = Buffer.from(text);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(bytes.length);
    return [head, bytes];
  });
  return new Promise((resolve, reject) => {
    const child = spawn(harness, withBundle ? ['check', bundle] : ['check'], { env: SANITIZER_ENV });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const answers = [...Buffer.concat(out).toString()].map((c) => c === '1');
      const step = withBundle ? 2 : 1;
      const taken = answers.filter((_, i) => i % step === 0);
      resolve({ taken, loaded: withBundle ? answers.filter((_, i) => i % 2 === 1) : [], stderr, code });
    });
    child.stdin.end(Buffer.concat(frames));
  });
}

/**
 * acceptable says whether the helper's reader should take a text JSON.parse takes: it refuses on purpose NUL in
 * strings (they go to system calls), lone surrogates, numbers beyond a double, number literals of 64 characters or
 * more, and nesting deeper than 64.
 */
function acceptable(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  if (/[0-9.eE+-]{64,}/.test(text)) return false;
  const ok = (v: unknown, depth: number): boolean => {
    if (typeof v === 'string') return !v.includes('\0') && !/\p{Surrogate}/u.test(v);
    if (typeof v === 'number') return Number.isFinite(v);
    if (v === null || typeof v !== 'object') return true;
    if (depth >= 64) return false;
    return Object.entries(v).every(([k, item]) => ok(k, depth) && ok(item, depth + 1));
  };
  return ok(value, 0);
}

// Valid JSON, and JSON with a few characters changed, inserted or removed, including tokens that JSON refuses.
const TOKENS = ['01', '1.', '.5', '-', '1e', '1e+', '+1', '0x1', '"', '\\', '\\u', '\\ud800', '\\u0000', '{', '}', '[', ']', ',', ':', 'nul', 'tru', '\t', '\u0001', 'é'];
const edit = fc.record({ at: fc.nat(), remove: fc.nat({ max: 3 }), insert: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ maxLength: 2 })) });
const jsonText = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.tuple(fc.json({ maxDepth: 3 }), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([text, edits]) =>
    edits.reduce((t, e) => {
      const at = e.at % (t.length + 1);
      return t.slice(0, at) + e.insert + t.slice(at + e.remove);
    }, text),
  ),
  fc.constantFrom('01', '-01', '1.', '1.e5', '1e', '1e+', '-', '0.5', '-0', '1E+2', '1e-400', '1e400', '[' .repeat(64) + ']'.repeat(64), '['.repeat(65) + ']'.repeat(65)),
);

describe('the sandbox helper JSON reader under sanitizers', () => {
  it('survives random and mutated documents, and configs loaded from them, with no sanitizer finding', async () => {
    const runs = process.env['FUZZ_RUNS'] ?? String(Number(process.env['FUZZ_SECONDS'] ?? 0) > 0 ? Number(process.env['FUZZ_SECONDS']) * 100 : 1500);
    const result = await run(harness, ['random', runs, String(FUZZ_SEED), bundle], { env: SANITIZER_ENV, maxBuffer: 1 << 24 }).catch(
      (err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`json-fuzz random ${runs} ${FUZZ_SEED} found something:\n${err.stderr ?? err.message}`);
      },
    );
    expect(result.stdout).toMatch(new RegExp(`^${runs} inputs, [1-9][0-9]* parsed`));
    expect(result.stderr).toBe('');
  }, fuzzTimeout(120_000));

  it('takes what JSON.parse takes and nothing more, but for what it refuses on purpose', async () => {
    const cases: string[] = [];
    fc.assert(
      fc.property(jsonText, (t) => {
        cases.push(t);
      }),
      fuzzParams(1500),
    );
    const { taken, stderr, code } = await check(cases);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(taken).toHaveLength(cases.length);
    const wrong = cases.filter((t, i) => taken[i] !== acceptable(t));
    expect(wrong.map((t) => [JSON.stringify(t), taken[cases.indexOf(t)] ? 'taken' : 'refused'])).toEqual([]);
  }, fuzzTimeout(120_000));
});

describe('the sandbox helper JSON reader on inputs the fuzzer found', () => {
  it('refuses numbers JSON does not have instead of reading what strtod makes of them', async () => {
    const { taken } = await check(['01', '-01', '1.', '1.e5', '1e', '1e+', '-', '[01]', '0.5', '1e-400', '1e400']);
    expect(taken).toEqual([false, false, false, false, false, false, false, false, true, true, false]);
  });

  it('refuses an rlimit of 2^64 instead of converting it to an integer (undefined behaviour)', async () => {
    const config = (soft: string) =>
      `{"root":{"path":"/r"},"process":{"args":["a"],"cwd":"/","user":{"uid":0,"gid":0},"rlimits":[{"type":"RLIMIT_NOFILE","soft":${soft},"hard":1}]},"linux":{"namespaces":[{"type":"mount"},{"type":"pid"}]}}`;
    // 2^64 - 1 is 2^64 as a double, out of range too.
    const { taken, loaded, stderr, code } = await check([config('18446744073709551616'), config('18446744073709551615'), config('1024')], true);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(taken).toEqual([true, true, true]);
    expect(loaded).toEqual([false, false, true]);
  });
});
