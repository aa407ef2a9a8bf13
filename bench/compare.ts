/**
 * One run of the whole benchmark table: every shared case (../shared/bench), a push of a fresh bigcontext-sized image
 * and hugecontext, built by tbuild, Docker's BuildKit and buildah alternated build by build (the order rotates every
 * run, so the load of a shared machine weighs on all alike), in the scenarios each case has. Prints a Markdown table
 * of medians and ratios, with the date, the load average, and the builders' peak memory, to stdout and to --out.
 *   npm run bench:compare -- [--runs 5] [--cases tiny,apt,...] [--out FILE]      (after npm run build)
 * Needs the peers of ../shared/bench/peers/setup.sh: dockerd 20.10, buildah, the registry on 127.0.0.1:5000.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BuildKit, Buildah, cleaningUp, exec, stopCurrent, Tbuild, type Builder, type Case } from './compare-builders.js';
import { removePushed } from './compare-registry.js';

const REPO = resolve(import.meta.dirname, '..', '..');
const SHARED_BENCH = resolve(REPO, '..', 'shared', 'bench');
const REGISTRY = '127.0.0.1:5000';
const BASES = { busybox: `${REGISTRY}/library/busybox:latest`, debian: `${REGISTRY}/library/debian:bookworm` };

/** pushed are the references this run pushed to the loopback registry, removed from it at the end. */
const pushed: string[] = [];

type Scenario = 'cold' | 'warm' | 'change' | 'push';

interface CaseSpec {
  readonly scenarios: readonly Scenario[];
  /** layout is the shared case whose context this one uses, or 'hugecontext' (bench/hugecontext.ts). */
  readonly layout: string;
  readonly base: keyof typeof BASES;
  /** change is the file a one-file change edits. */
  readonly change?: string;
  readonly hostNetwork?: boolean;
}

/** CASES are the cases in table order, with the scenarios each is measured in (../shared/bench/README.md). */
const CASES: Readonly<Record<string, CaseSpec>> = {
  tiny: { scenarios: ['cold', 'warm', 'change'], layout: 'tiny', base: 'busybox', change: 'files/file-05.txt' },
  manysteps: { scenarios: ['cold', 'warm', 'change'], layout: 'manysteps', base: 'busybox', change: 'files/step-10.txt' },
  parallel: { scenarios: ['cold', 'warm'], layout: 'parallel', base: 'busybox' },
  bigcontext: { scenarios: ['cold', 'warm', 'change'], layout: 'bigcontext', base: 'busybox', change: 'app/src/index.js' },
  apt: { scenarios: ['cold', 'warm'], layout: 'apt', base: 'debian', hostNetwork: true },
  cachemount: { scenarios: ['cold', 'warm', 'change'], layout: 'cachemount', base: 'busybox', change: 'input.txt' },
  push: { scenarios: ['push'], layout: 'bigcontext', base: 'busybox' },
  hugecontext: { scenarios: ['warm', 'change'], layout: 'hugecontext', base: 'busybox', change: 'app/src/index.js' },
};

const SCENARIO_NAMES: Readonly<Record<Scenario, string>> = {
  cold: 'cold',
  warm: 'warm',
  change: 'one-file change',
  push: 'push (fresh image)',
};

interface Row {
  readonly name: string;
  readonly scenario: string;
  /** times holds each column's seconds: tbuild, BuildKit, buildah. */
  readonly times: Record<string, number[]>;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  if (s.length === 0) throw new Error('no timing to take the median of');
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** rotated is the builders in the order of run i: each goes first in turn. */
function rotated<T>(items: readonly T[], i: number): T[] {
  return items.map((_, k) => items[(i + k) % items.length] as T);
}

const log = (line: string): boolean => process.stderr.write(`[bench:compare ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** layOut writes a case's context into the run's folder. */
async function layOut(work: string, name: string, spec: CaseSpec): Promise<string> {
  const dir = join(work, 'ctx', name);
  if (spec.layout === 'hugecontext') await exec(process.execPath, [join(REPO, 'dist', 'bench', 'hugecontext.js'), dir]);
  else await exec('sh', [join(SHARED_BENCH, 'make-context.sh'), spec.layout, dir]);
  return dir;
}

/** measureCase runs one case's scenarios, alternating the builders build by build, and returns its table rows. */
async function measureCase(work: string, name: string, spec: CaseSpec, runs: number, tbuild: Tbuild, builders: readonly Builder[]): Promise<Row[]> {
  const c: Case = { name, context: await layOut(work, name, spec), base: BASES[spec.base], hostNetwork: spec.hostNetwork === true };
  const tag = `bench-compare-${process.pid}-${name}`;
  const rows: Row[] = [];
  const units = builders.map((b) => ({ name: b.name, builder: b as Builder | undefined, build: (cc: Case, t: string) => b.build(cc, t) }));
  const direct = { name: 'tbuild (node bin/tbuild.js)', builder: undefined, build: (cc: Case, t: string) => tbuild.buildDirect(cc, t) };
  // The install without a C compiler: the launcher in JavaScript, served by the same resident builder.
  const jsLauncher = { name: 'tbuild (node bin/launcher.js)', builder: undefined, build: (cc: Case, t: string) => tbuild.buildThroughJsLauncher(cc, t) };
  // After the cold runs each builder's cache holds the case; without them, one untimed build fills it.
  let filled = spec.scenarios.includes('cold');
  for (const scenario of spec.scenarios) {
    const times: Record<string, number[]> = {};
    if (!filled && (scenario === 'warm' || scenario === 'change')) {
      for (const b of builders) {
        await b.reset(c);
        await b.build(c, tag);
      }
      filled = true;
    }
    for (let i = 0; i < runs; i++) {
      if (scenario === 'change') await appendFile(join(c.context, spec.change ?? ''), `change ${i} ${randomUUID()}\n`);
      for (const u of rotated(scenario === 'warm' ? [...units, jsLauncher, direct] : units, i)) {
        let seconds: number;
        switch (scenario) {
          case 'cold':
            await u.builder?.reset(c);
            seconds = await timed(() => u.build(c, tag));
            break;
          case 'warm':
          case 'change':
            seconds = await timed(() => u.build(c, tag));
            break;
          case 'push': {
            const builder = u.builder;
            if (builder === undefined) throw new Error(`${u.name} does not push`);
            // A fresh image each time (a file no other image has in its big layer), to a fresh repository.
            const ref = `${REGISTRY}/bench-compare/${u.name.toLowerCase()}-${process.pid}-${i}:v1`;
            pushed.push(ref);
            await writeFile(join(c.context, 'push-nonce'), `${randomUUID()}\n`);
            if (i === 0) await builder.reset(c);
            await builder.build(c, ref);
            seconds = await timed(() => builder.push(c, ref));
            break;
          }
        }
        (times[u.name] ??= []).push(seconds);
      }
      log(`${name} ${scenario} ${i + 1}/${runs}: ${Object.entries(times).map(([k, v]) => `${k} ${(v[i] ?? 0).toFixed(3)} s`).join(', ')}`);
    }
    rows.push({ name, scenario: SCENARIO_NAMES[scenario], times });
    for (const [unit, shown] of [
      [jsLauncher, 'warm, `node bin/launcher.js` (no C compiler)'],
      [direct, 'warm, `node bin/tbuild.js`'],
    ] as const) {
      const unitTimes = times[unit.name];
      if (unitTimes !== undefined) rows.push({ name, scenario: shown, times: { ...times, tbuild: unitTimes } });
    }
  }
  await rm(c.context, { recursive: true, force: true });
  return rows;
}

const loadNow = (): string => loadavg().map((n) => n.toFixed(2)).join(' ');

/** perRun lists every timing of each row, in run order, for the spread the medians hide. */
function perRun(rows: readonly Row[]): string[] {
  return rows.map((r) => `- ${r.name}, ${r.scenario}: ${(r.scenario.includes('node') ? ['tbuild'] : ['tbuild', 'BuildKit', 'buildah']).map((col) => `${col} ${(r.times[col] ?? []).map((s) => s.toFixed(2)).join(' ')}`).join('; ')}`);
}

/** ratio shows two significant digits below 1 (a warm build can be a few thousandths of buildah's), else two decimals. */
function ratio(x: number): string {
  return x >= 1 ? x.toFixed(2) : x.toPrecision(2);
}

function table(rows: readonly Row[]): string[] {
  const lines = ['| case | scenario | tbuild s | BuildKit s | buildah s | tbuild/BuildKit | tbuild/buildah |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const [t, k, h] = ['tbuild', 'BuildKit', 'buildah'].map((col) => median(r.times[col] ?? []));
    if (t === undefined || k === undefined || h === undefined) throw new Error(`${r.name} ${r.scenario}: a builder has no timing`);
    lines.push(`| ${r.name} | ${r.scenario} | ${t.toFixed(3)} | ${k.toFixed(3)} | ${h.toFixed(3)} | ${ratio(t / k)} | ${ratio(t / h)} |`);
  }
  return lines;
}

async function preflight(): Promise<void> {
  const setup = join(SHARED_BENCH, 'peers', 'setup.sh');
  await exec('/usr/bin/docker', ['version'], { DOCKER_API_VERSION: '1.41' }).catch((err: unknown) => {
    throw new Error(`Docker's engine does not answer: run bash ${setup}`, { cause: err });
  });
  const reg = await fetch(`http://${REGISTRY}/v2/`).catch((err: unknown) => {
    throw new Error(`the registry on ${REGISTRY} does not answer: run bash ${setup}`, { cause: err });
  });
  if (!reg.ok) throw new Error(`the registry on ${REGISTRY} answers ${reg.status}: run bash ${setup}`);
  await exec('buildah', ['--version']).catch((err: unknown) => {
    throw new Error(`buildah does not run: run bash ${setup}`, { cause: err });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '5' }, cases: { type: 'string', default: Object.keys(CASES).join(',') }, out: { type: 'string' } },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: expected a whole number above 0`);
  const names = values.cases.split(',').filter((n) => n !== '');
  const unknown = names.filter((n) => CASES[n] === undefined);
  if (unknown.length > 0 || names.length === 0) throw new Error(`--cases: no case ${unknown.join(', ')}; the cases are ${Object.keys(CASES).join(', ')}`);
  const started = new Date();
  const out = values.out ?? join(REPO, 'bench', 'results', `compare-${started.toISOString().slice(0, 16).replace(':', '')}Z.md`);
  await preflight();
  const loadStart = loadNow();
  const work = await mkdtemp(join(tmpdir(), 'tbuild-bench-compare-'));
  const onSignal = (): void => {
    log('interrupted: cleaning up');
    stopCurrent();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const tbuild = new Tbuild(work);
  const builders: Builder[] = [];
  const rows: Row[] = [];
  const peaks: string[] = [];
  try {
    builders.push(tbuild, await BuildKit.open(), new Buildah(work));
    for (const name of names) {
      const spec = CASES[name];
      if (spec !== undefined) rows.push(...(await measureCase(work, name, spec, runs, tbuild, builders)));
    }
    for (const b of builders) peaks.push(await b.peak());
  } finally {
    cleaningUp();
    for (const b of builders) await b.close().catch((err: unknown) => log(`${b.name}: clean-up failed: ${String(err)}`));
    await removePushed(pushed).catch((err: unknown) => log(`registry clean-up failed: ${String(err)}`));
    await rm(work, { recursive: true, force: true });
  }
  const [tbPeak, dkPeak, bhPeak] = peaks;
  const report = [
    `# tbuild, Docker's BuildKit and buildah on the shared benchmark cases`,
    '',
    `${started.toISOString()} to ${new Date().toISOString()}; ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; ` +
      `load average (1, 5, 15 min) ${loadStart} at the start, ${loadNow()} at the end; ${runs} run(s) per figure, medians in seconds.`,
    `Builders alternated build by build, the order rotating every run. tbuild through its launcher and a resident builder of`,
    `the run's own (the \`node bin/launcher.js\` row: the launcher in JavaScript an install without a C compiler runs, the`,
    `same resident builder; the \`node bin/tbuild.js\` row: started directly); BuildKit: Debian's docker.io 20.10 (DOCKER_BUILDKIT=1);`,
    `buildah \`build --layers\` with storage of its own. apt runs with host networking in all three.`,
    '',
    ...table(rows),
    '',
    `Peak memory (MiB): tbuild's resident builder ${tbPeak} (VmHWM, its whole life in this run); dockerd ${dkPeak};`,
    `buildah ${bhPeak} (the largest /usr/bin/time %M of its commands: it has no daemon).`,
    '',
    'cold: empty build cache, base image local (tbuild: a fresh --root; BuildKit: `docker builder prune -af` and the image',
    'removed; buildah: fresh storage). warm: nothing changed. one-file change: one file edited before each run.',
    'push: a bigcontext image with a file no other has, pushed to a fresh repository on 127.0.0.1:5000 (compression included).',
    'hugecontext (bench/hugecontext.ts, 200,002 files, 2 GB): warm and change only, after one untimed build.',
    '',
    'Each build, in run order (seconds):',
    '',
    ...perRun(rows),
  ].join('\n');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${report}\n`);
  process.stdout.write(`${report}\n`);
  log(`written to ${out}`);
}

await main();
