import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../base/build-record.js';
import type { ChromeTrace, OtlpTraces } from '../../cli/history-trace.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runHeadlessChromium } from '../helpers/chromium.js';
import { runTbuild, type CliResult } from '../helpers/cli.js';

describe('tbuild history trace', () => {
  const env = useBuildEnvironment();
  let ctx: string;
  let root: string;
  const build = (...args: string[]): Promise<CliResult> => runTbuild(['build', '--root', root, '--config', env.config, '--progress', 'plain', ...args, ctx]);
  const history = (...args: string[]): Promise<CliResult> => runTbuild(['history', ...args, '--root', root]);
  const inspect = async (ref: string): Promise<HistoryRecord> => {
    const r = await history('inspect', ref, '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as HistoryRecord;
  };
  let first: HistoryRecord;
  let second: HistoryRecord;

  beforeAll(async () => {
    ctx = join(env.tmp.path, 'ctx');
    root = join(env.tmp.path, 'root');
    await mkdir(ctx, { recursive: true });
    // Stages a and b run at once; the second build changes b only, so a's steps come from the cache.
    await writeFile(
      join(ctx, 'Dockerfile'),
      'FROM busybox AS a\nRUN echo out-a && sleep 1 && echo a > /a\nFROM busybox AS b\nARG V=1\nRUN echo out-b-$V && sleep 1 && echo b > /b\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n',
    );
    const one = await build();
    expect(one.code, one.stderr).toBe(0);
    const two = await build('--build-arg', 'V=2');
    expect(two.code, two.stderr).toBe(0);
    const ls = await history('ls', '--format', 'json');
    const [last, earlier] = ls.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { ref: string }).ref);
    first = await inspect(earlier ?? '');
    second = await inspect(last ?? '');
  }, 180_000);

  it('writes Chrome trace events: the build span and one complete event per step, steps that ran at once on threads apart', async () => {
    const out = await history('trace', first.ref);
    expect(out.code, out.stderr).toBe(0);
    const trace = JSON.parse(out.stdout) as ChromeTrace;
    const [build, ...steps] = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(build).toMatchObject({ name: 'build', ts: 0, args: { ref: first.ref, status: 'completed' } });
    expect(steps.map((s) => s.name)).toEqual(first.steps.map((s) => s.name));
    const runA = steps.find((s) => s.name.includes('echo out-a'));
    const runB = steps.find((s) => s.name.includes('echo out-b'));
    const overlap = Math.min((runA?.ts ?? 0) + (runA?.dur ?? 0), (runB?.ts ?? 0) + (runB?.dur ?? 0)) - Math.max(runA?.ts ?? 0, runB?.ts ?? 0);
    expect(overlap, JSON.stringify([runA, runB])).toBeGreaterThan(0);
    expect(runA?.tid).not.toBe(runB?.tid);
    for (const s of steps) expect((s.ts ?? 0) + (s.dur ?? 0)).toBeLessThanOrEqual(build?.dur ?? 0);
  });

  it('writes OTLP/JSON with a span per step under the build span, cache hits marked, to a file with -o', async () => {
    const file = join(env.tmp.path, 'trace.otlp.json');
    const out = await history('trace', second.ref, '--format', 'otlp', '-o', file);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe('');
    const trace = JSON.parse(await readFile(file, 'utf8')) as OtlpTraces;
    const [root, ...spans] = trace.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    expect(root?.name).toBe('build');
    expect(spans).toHaveLength(second.steps.length);
    for (const s of spans) expect(s.parentSpanId).toBe(root?.spanId);
    const cachedNames = second.steps.filter((s) => s.cached).map((s) => s.name);
    expect(cachedNames.some((n) => n.includes('echo out-a'))).toBe(true);
    for (const s of spans) expect(s.attributes).toContainEqual({ key: 'cached', value: { boolValue: cachedNames.includes(s.name) } });
    expect(BigInt(root?.startTimeUnixNano ?? '0')).toBe(BigInt(second.createdAt) * 1_000_000n);
  });

  it('writes an HTML page a browser draws with a bar per step, cached ones apart, and a step’s output on selection', async () => {
    const page = join(env.tmp.path, 'trace.html');
    const out = await history('trace', second.ref, '-o', page);
    expect(out.code, out.stderr).toBe(0);
    const profileDir = join(env.tmp.path, 'chromium');
    const runB = second.steps.find((s) => s.name.includes('echo out-b'));
    const url = `${pathToFileURL(page).href}#step-${runB?.index ?? 0}`;
    const dom = await runHeadlessChromium(url, ['--dump-dom'], { profileDir });
    expect(dom.code, dom.stderr.slice(-2000)).toBe(0);
    const bars = [...dom.stdout.matchAll(/<div class="bar( [a-z ]+)?" data-step="(\d+)"/g)];
    expect(bars.map((b) => Number(b[2])).sort((x, y) => x - y)).toEqual(second.steps.map((s) => s.index).sort((x, y) => x - y));
    expect(bars.filter((b) => b[1]?.includes('cached')).length).toBe(second.steps.filter((s) => s.cached).length);
    // The step the link names is selected, its output shown.
    expect(dom.stdout).toMatch(/<pre id="log">[^<]*out-b-2/);
    const shot = join(env.tmp.path, 'trace.png');
    const taken = await runHeadlessChromium(pathToFileURL(page).href, [`--screenshot=${shot}`], { profileDir });
    expect(taken.code, taken.stderr.slice(-2000)).toBe(0);
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect((await stat(shot)).size).toBeGreaterThan(1000);
  }, 120_000);

  it('refuses a format it does not write', async () => {
    const out = await history('trace', '--format', 'jaeger');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('Cannot use --format jaeger: expected html, chrome, otlp');
  });
});
