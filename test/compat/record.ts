// Records BuildKit's fingerprint of each case: builds it with Docker 20.10 (DOCKER_BUILDKIT=1), saves the image and
// writes test/compat/expected/<case>.json. Run with `npm run compat:record [-- CASE...]` on a machine with Docker and
// the busybox and debian:bookworm base images tagged in it.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFlags, EXPECTED_DIR, listCases, type CompatCase, type ExpectationOverride } from './cases.js';
import { BASE_NAMES } from './bases.js';
import { fingerprintImage, type Fingerprint, type NamedImage } from './fingerprint.js';
import { readImageArchive } from './image-reader.js';

const DOCKER = process.env['DOCKER'] ?? '/usr/bin/docker';
const DOCKER_ENV = { ...process.env, DOCKER_BUILDKIT: '1', DOCKER_API_VERSION: process.env['DOCKER_API_VERSION'] ?? '1.41' };

function docker(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, args, { env: DOCKER_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`docker ${args.join(' ')} failed (${code}):\n${output.slice(-4000)}`))));
  });
}

async function saveImage(ref: string, dir: string): Promise<string> {
  const archive = join(dir, `${ref.replace(/[^a-z0-9]+/g, '-')}.tar`);
  await docker(['save', ref, '-o', archive]);
  return archive;
}

const COPY_FLAGS_SHOWN = ['parents', 'chown', 'chmod'] as const;

/** Returns each COPY/ADD of a Dockerfile as its history text without flags, and the flags current BuildKit shows. */
function copyInstructions(dockerfile: string): { command: string; flags: string }[] {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n');
  const out: { command: string; flags: string }[] = [];
  for (const line of lines) {
    const words = line.trim().split(/\s+/);
    if (words[0]?.toUpperCase() === 'ONBUILD') words.shift();
    const cmd = words[0]?.toUpperCase();
    if (cmd !== 'COPY' && cmd !== 'ADD') continue;
    const flags = new Map<string, string>();
    const rest: string[] = [];
    for (const w of words.slice(1)) {
      const flag = /^--([a-z]+)(?:=(.*))?$/.exec(w);
      if (flag && rest.length === 0) flags.set(flag[1] ?? '', flag[2] ?? '');
      else rest.push(w);
    }
    const shown = COPY_FLAGS_SHOWN.filter((f) => flags.has(f)).map((f) => (f === 'parents' ? '--parents' : `--${f}=${flags.get(f) ?? ''}`));
    out.push({ command: `${cmd} ${rest.join(' ')}`, flags: shown.join(' ') });
  }
  return out;
}

/** Answers whether a Dockerfile line matches recorded text, a word with a variable in it matching any word. */
function sameWithVariables(written: string, recorded: string): boolean {
  const a = written.split(' ');
  const b = recorded.split(' ');
  return a.length === b.length && a.every((w, i) => w === b[i] || w.includes('$'));
}

/**
 * Current BuildKit names --parents, --chown and --chmod in the history entry of a COPY or ADD
 * (frontend/dockerfile/dockerfile2llb/convert_copy.go, since BuildKit v0.13); Docker 20.10 writes sources and
 * destination only. Adds the flags to each recorded entry, matching entries to the Dockerfile's COPY/ADD in order.
 */
function currentCopyHistory(fingerprint: Fingerprint, dockerfile: string): Fingerprint {
  const instructions = copyInstructions(dockerfile);
  const history = fingerprint.history.map((h) => {
    const m = /^(COPY|ADD) (.*) # buildkit$/.exec(h.created_by);
    if (m === null) return h;
    const recorded = `${m[1]} ${m[2]}`;
    let index = instructions.findIndex((i) => i.command === recorded);
    if (index === -1) index = instructions.findIndex((i) => sameWithVariables(i.command, recorded));
    if (index === -1) throw new Error(`Cannot match history entry "${h.created_by}" to a COPY or ADD of the Dockerfile`);
    const [instruction] = instructions.splice(index, 1);
    if (instruction === undefined || instruction.flags === '') return h;
    return { ...h, created_by: `${m[1]} ${instruction.flags} ${m[2]} # buildkit` };
  });
  return { ...fingerprint, history };
}

/** Applies a case's corrections (current BuildKit where Docker 20.10's frontend differs) to its recording. */
function applyOverrides(fingerprint: Fingerprint, overrides: readonly ExpectationOverride[]): Fingerprint {
  const copy = JSON.parse(JSON.stringify(fingerprint)) as Record<string, unknown>;
  for (const o of overrides) {
    const keys = typeof o.field === 'string' ? o.field.split('.') : [...o.field];
    const last = keys.pop();
    let target: unknown = copy;
    for (const key of keys) {
      if (typeof target !== 'object' || target === null || !(key in target)) throw new Error(`Cannot override "${o.field}": the recording has no "${key}"`);
      target = (target as Record<string, unknown>)[key];
    }
    if (last === undefined || typeof target !== 'object' || target === null) throw new Error(`Cannot override "${o.field}"`);
    if (o.value === null) delete (target as Record<string, unknown>)[last];
    else (target as Record<string, unknown>)[last] = o.value;
  }
  return copy as unknown as Fingerprint;
}

/**
 * Dates current BuildKit gives an image built with SOURCE_DATE_EPOCH: the config's `created` and every history entry
 * the build adds are the epoch (docs/build-repro.md; dockerfile2llb passes the epoch to commitToHistory and the image
 * exporter). Docker 20.10's BuildKit v0.8 predates the feature and stamps the build time.
 */
function epochDates(fingerprint: Fingerprint, c: CompatCase): Fingerprint {
  const epoch = c.options.buildArgs?.['SOURCE_DATE_EPOCH'];
  if (epoch === undefined) throw new Error(`Cannot record ${c.name}: compareDates needs a SOURCE_DATE_EPOCH build arg`);
  const created = new Date(Number(epoch) * 1000).toISOString();
  return {
    ...fingerprint,
    config: { ...fingerprint.config, created },
    history: fingerprint.history.map((h) => ({ ...h, created })),
  };
}

async function recordCase(c: CompatCase, bases: readonly NamedImage[], dir: string): Promise<void> {
  const tag = `tbuild-compat-record-${c.name}`;
  const dockerfile = join(c.dir, c.options.recordDockerfile ?? 'Dockerfile');
  await docker(['build', '--progress=plain', '-t', tag, '-f', dockerfile, ...buildFlags(c), c.dir]);
  try {
    const image = await readImageArchive(await saveImage(tag, dir));
    const dates = c.options.compareDates === true;
    const recorded = currentCopyHistory(fingerprintImage(image, bases, { dates }), await readFile(dockerfile, 'utf8'));
    const fingerprint = applyOverrides(dates ? epochDates(recorded, c) : recorded, c.options.expectationOverrides ?? []);
    await writeFile(join(EXPECTED_DIR, `${c.name}.json`), `${JSON.stringify(fingerprint, null, 2)}\n`);
  } finally {
    await docker(['rmi', tag]);
  }
}

async function main(only: readonly string[]): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-compat-record-'));
  try {
    await mkdir(EXPECTED_DIR, { recursive: true });
    const bases: NamedImage[] = [];
    for (const [name, ref] of Object.entries(BASE_NAMES)) bases.push({ name, image: await readImageArchive(await saveImage(ref, dir)) });
    const cases = (await listCases()).filter((c) => only.length === 0 || only.includes(c.name));
    let failed = 0;
    for (const c of cases) {
      const started = Date.now();
      try {
        await recordCase(c, bases, dir);
        process.stdout.write(`recorded ${c.name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
      } catch (err) {
        failed++;
        process.stdout.write(`FAILED ${c.name}: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
    process.stdout.write(`${cases.length - failed} recorded, ${failed} failed\n`);
    if (failed > 0) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
