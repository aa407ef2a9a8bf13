// Differential compatibility: builds every case of test/compat/cases/ with tbuild and compares the image, path by
// path, with what BuildKit (Docker 20.10) built from the same case (test/compat/expected/, see record.ts).
// The base images are made here (make-bases.sh) and served from a loopback registry, so no Docker is needed.
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { makeTempDir, REPO_ROOT, writeMirrorConfig, type TempDir } from '../helpers/cli.js';
import { makeBases } from './bases.js';
import { buildFlags, EXPECTED_DIR, listCases, type CompatCase } from './cases.js';
import { compareFingerprints } from './compare.js';
import { fingerprintImage, type Fingerprint, type NamedImage } from './fingerprint.js';
import { readImageArchive } from './image-reader.js';

const BASES_TIMEOUT_MS = 15 * 60_000;
const DEFAULT_CASE_TIMEOUT_S = 120;

const only = (process.env['COMPAT_CASES'] ?? '').split(',').filter((n) => n !== '');
const cases = (await listCases()).filter((c) => only.length === 0 || only.includes(c.name));

let registry: TestRegistry | undefined;
let tmp: TempDir | undefined;
let config = '';
let bases: NamedImage[] = [];

beforeAll(async () => {
  registry = await startRegistry();
  tmp = await makeTempDir('tbuild-compat-');
  config = await writeMirrorConfig(tmp.path, registry.host);
  bases = await makeBases(registry.host);
}, BASES_TIMEOUT_MS);

afterAll(async () => {
  await tmp?.[Symbol.asyncDispose]();
  await registry?.stop();
});

const caseTimeoutMs = (c: CompatCase): number => (c.options.timeoutSeconds ?? DEFAULT_CASE_TIMEOUT_S) * 1000;

/** Runs tbuild; past timeoutMs it is interrupted (SIGINT: it cancels and cleans up), then killed 10 s later. */
function runBuild(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'tbuild.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (d: Buffer): void => {
      output = (output + d.toString()).slice(-20_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let killTimer: NodeJS.Timeout | undefined;
    const interruptTimer = setTimeout(() => {
      output += `\n(interrupted after ${timeoutMs / 1000} s)\n`;
      child.kill('SIGINT');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(interruptTimer);
      clearTimeout(killTimer);
      resolve({ code, output });
    });
  });
}

async function buildWithTbuild(c: CompatCase, dir: string): Promise<Fingerprint> {
  const out = join(dir, `${c.name}.tar`);
  try {
    const args = ['build', '--config', config, '--root', join(dir, 'root'), '--progress', 'plain', '-o', `type=oci,dest=${out}`];
    const result = await runBuild([...args, ...buildFlags(c), c.dir], caseTimeoutMs(c) - 15_000);
    if (result.code !== 0) throw new Error(`tbuild build failed (exit ${result.code}):\n${result.output.slice(-6000)}`);
    return fingerprintImage(await readImageArchive(out), bases, { dates: c.options.compareDates === true });
  } finally {
    await rm(out, { force: true });
  }
}

describe('BuildKit compatibility', () => {
  for (const c of cases) {
    test(c.name, async () => {
      const text = await readFile(join(EXPECTED_DIR, `${c.name}.json`), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        throw new Error(`No BuildKit fingerprint is recorded for ${c.name}: run \`npm run compat:record -- ${c.name}\` where Docker runs`);
      });
      const expected = JSON.parse(text) as Fingerprint;
      if (tmp === undefined) throw new Error('The compatibility environment is not set up');
      const actual = await buildWithTbuild(c, tmp.path);
      const differences = compareFingerprints(expected, actual);
      expect(differences, `${c.name} differs from BuildKit:\n  ${differences.join('\n  ')}`).toEqual([]);
    }, caseTimeoutMs(c));
  }
});
