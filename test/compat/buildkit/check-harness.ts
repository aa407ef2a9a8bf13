import { beforeAll, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import type { BuildkitSuite } from './harness.js';
import { LINT_CALLS, type LintCall, type LintWarning } from './check-cases.js';

const WARNING = /^WARNING: (\w+): (.*) \(Dockerfile:(\d+)\)$/;

/** warningsIn returns the lint warnings tbuild printed, sorted as BuildKit's test sorts them (line, then detail). */
function warningsIn(output: string): LintWarning[] {
  const found: LintWarning[] = [];
  for (const line of output.split('\n')) {
    const m = WARNING.exec(line.trim());
    if (m !== null) found.push([m[1] ?? '', m[2] ?? '', Number(m[3])]);
  }
  return sortWarnings(found);
}

function sortWarnings(ws: readonly LintWarning[]): LintWarning[] {
  return [...ws].sort((a, b) => a[2] - b[2] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

/**
 * checkLinterWarnings runs one of BuildKit's lint calls through `--check` (the lint request: its warnings and
 * error), and as a build when the build must fail. It returns the differences found, each naming the call.
 */
export async function checkLinterWarnings(suite: BuildkitSuite, call: LintCall, name: string): Promise<string[]> {
  const problems: string[] = [];
  const files: Record<string, string> = { Dockerfile: call.dockerfile };
  if (call.dockerignore !== undefined) files['.dockerignore'] = call.dockerignore;
  const dir = await suite.context(files);
  const buildArgs = call.buildArgs ?? {};
  // BuildKit runs each call as a build (warntype=progress) and as a lint request (warntype=unmarshal, tbuild's
  // --check). To keep the suite fast, the build runs only for calls whose build must fail: the warnings of both
  // are the same rules, checked through --check.
  const runs: [string, readonly string[], readonly LintWarning[]][] = [['warntype=unmarshal', ['--check'], call.lintWarnings ?? call.warnings]];
  if (call.buildErr !== undefined || call.buildErrRegexp !== undefined) runs.unshift(['warntype=progress', [], call.warnings]);
  const platform = call.platform === undefined ? [] : ['--platform', call.platform];
  const results = await Promise.all(runs.map(([, args]) => suite.build({ dir, buildArgs, output: 'none', args: [...args, ...platform] })));
  for (const [i, [mode, , expected]] of runs.entries()) {
    const res = results[i];
    if (res === undefined) continue;
    const output = `${res.stdout}\n${res.stderr}`;
    // --check reports the warnings on stdout (and shows them live on stderr); a build shows them on stderr.
    const got = warningsIn(mode === 'warntype=progress' ? res.stderr : res.stdout);
    const want = sortWarnings(expected);
    if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${name} ${mode}: warnings ${JSON.stringify(got)}, BuildKit ${JSON.stringify(want)}`);
    const regexp = mode === 'warntype=progress' ? call.buildErrRegexp : undefined;
    if (call.buildErr !== undefined) {
      if (res.code === 0 || !output.includes(call.buildErr)) problems.push(`${name} ${mode}: no error "${call.buildErr}"`);
    } else if (regexp !== undefined) {
      if (res.code === 0 || !new RegExp(regexp).test(output)) problems.push(`${name} ${mode}: no error matching /${regexp}/`);
    } else if (res.code !== 0 && call.buildErrRegexp === undefined) {
      problems.push(`${name} ${mode}: failed: ${output.split('\n').filter((l) => l.startsWith('ERROR')).join(' | ')}`);
    }
  }
  return problems;
}

/** portLintCalls declares one case per BuildKit test function of dockerfile_check_test.go named in fns. */
export function portLintCalls(suite: BuildkitSuite, fns: readonly string[]): void {
  for (const fn of fns) {
    const calls = LINT_CALLS[fn];
    if (calls === undefined) throw new Error(`no lint calls for ${fn}`);
    suite.port(fn, async () => {
      // The calls are independent: run them a few at a time to keep the suite fast.
      const found: string[][] = [];
      const pending = [...calls.entries()];
      const worker = async (): Promise<void> => {
        for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
          const [i, call] = next;
          found[i] = await checkLinterWarnings(suite, call, `call ${i + 1}`);
        }
      };
      await Promise.all([worker(), worker()]);
      const problems = found.flat();
      expect(problems, problems.join('\n')).toEqual([]);
    });
  }
}

/**
 * useBusyboxTag publishes the test registry's busybox under another tag: BuildKit's test environment mirrors
 * busybox:stable-musl besides busybox:latest, and some Dockerfiles name it.
 */
export function useBusyboxTag(suite: BuildkitSuite, tag: string): void {
  beforeAll(async () => {
    const host = suite.env.registry.host;
    const res = await run('skopeo', [
      'copy', '--src-tls-verify=false', '--dest-tls-verify=false',
      `docker://${host}/library/busybox:latest`, `docker://${host}/library/busybox:${tag}`,
    ]);
    expect(res.code, res.stderr).toBe(0);
  });
}
