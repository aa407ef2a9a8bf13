import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** COMPAT_DIR is test/compat/ of the checkout ($TBUILD_COMPAT_DIR when this module runs bundled). */
export const COMPAT_DIR = resolve(process.env['TBUILD_COMPAT_DIR'] ?? import.meta.dirname);
/** CASES_DIR holds one folder per case: the build context with its Dockerfile and an optional case.json. */
export const CASES_DIR = join(COMPAT_DIR, 'cases');
/** EXPECTED_DIR holds BuildKit's fingerprint of each case, as recorded by `npm run compat:record`. */
export const EXPECTED_DIR = join(COMPAT_DIR, 'expected');

/** CaseOptions are the build options of a case (case.json). */
export interface CaseOptions {
  readonly buildArgs?: Readonly<Record<string, string>>;
  readonly target?: string;
  /** "host": RUN steps reach the network (the Debian mirror, the npm registry). */
  readonly network?: 'host';
  /** Secret id → file relative to the case folder, or an absolute path on the building machine. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Why the case exists, or why its expectation was recorded the way it was. */
  readonly reason?: string;
  /**
   * Dockerfile (relative to the case folder) that Docker 20.10 builds when recording, for features its built-in
   * frontend (Dockerfile 1.2) lacks; the same image written another way. tbuild always builds `Dockerfile`.
   */
  readonly recordDockerfile?: string;
  /**
   * Corrections applied to Docker 20.10's recording where its frontend (BuildKit v0.8) differs from the current
   * Dockerfile reference and BuildKit: each sets one field of the fingerprint (a dotted path such as
   * "history.2.created_by") and says why, citing the current source.
   */
  readonly expectationOverrides?: readonly ExpectationOverride[];
  /**
   * Compare the image's date and the added history entries' dates too (for SOURCE_DATE_EPOCH). Docker 20.10
   * predates SOURCE_DATE_EPOCH, so the recorder sets them to the epoch as current BuildKit does.
   */
  readonly compareDates?: boolean;
  /** Seconds the tbuild build may take in the suite (default 120). */
  readonly timeoutSeconds?: number;
}

/** ExpectationOverride sets one field of a recorded fingerprint to what current BuildKit produces (null removes it). */
export interface ExpectationOverride {
  /** Dotted path ("history.2.created_by"), or the keys as a list when one holds dots (["paths", "/a.txt", "mode"]). */
  readonly field: string | readonly string[];
  readonly value: unknown;
  readonly reason: string;
}

/** CompatCase is one folder of the corpus. */
export interface CompatCase {
  readonly name: string;
  readonly dir: string;
  readonly options: CaseOptions;
}

/** listCases reads every case folder of the corpus, sorted by name. */
export async function listCases(): Promise<CompatCase[]> {
  const names = (await readdir(CASES_DIR, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const cases: CompatCase[] = [];
  for (const name of names) {
    const dir = join(CASES_DIR, name);
    const options = await readFile(join(dir, 'case.json'), 'utf8').then(
      (text) => JSON.parse(text) as CaseOptions,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return {};
        throw err;
      },
    );
    cases.push({ name, dir, options });
  }
  return cases;
}

/** buildFlags returns the command-line flags shared by `docker build` and `tbuild build` for a case. */
export function buildFlags(c: CompatCase): string[] {
  const flags: string[] = [];
  for (const [k, v] of Object.entries(c.options.buildArgs ?? {})) flags.push('--build-arg', `${k}=${v}`);
  if (c.options.target !== undefined) flags.push('--target', c.options.target);
  for (const [id, file] of Object.entries(c.options.secrets ?? {})) flags.push('--secret', `id=${id},src=${resolve(c.dir, file)}`);
  if (c.options.network === 'host') flags.push('--network', 'host');
  return flags;
}
