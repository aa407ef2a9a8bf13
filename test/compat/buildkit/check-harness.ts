import { beforeAll, expect } from 'vitest';
import { run } from '../../helpers/cli.js';
import type { BuildkitSuite } from './harness.js';
import type { CheckFinding } from '../../../base/progress.js';
import type { LintResults } from '../../../cli/check-report.js';
import { LINT_CALLS, RULE_DOCS, type LintCall, type LintWarning } from './check-cases.js';

/** Observed is one warning as BuildKit's test compares it: rule, detail, line, description and URL ('' for none). */
type Observed = readonly [string, string, number, string, string];

/** sortWarnings sorts as BuildKit's test does: by line, then detail. */
function sortWarnings(ws: readonly Observed[]): Observed[] {
  return [...ws].sort((a, b) => a[2] - b[2] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
}

/** expectedOf completes BuildKit's expected warnings with their rule's description and URL. */
function expectedOf(ws: readonly LintWarning[]): Observed[] {
  return sortWarnings(ws.map(([rule, detail, line]): Observed => [rule, detail, line, ...(RULE_DOCS[rule] ?? ['', ''])]));
}

/** progressWarnings reads the lint warnings a build reported in its progress (`--progress json`, tbuild's own events). */
function progressWarnings(stderr: string): Observed[] {
  const found: Observed[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { type: string; finding?: CheckFinding };
    const f = event.finding;
    if (event.type === 'warning' && f !== undefined) found.push([f.rule, f.detail, f.location?.startLine ?? 0, f.description, f.url ?? '']);
  }
  return sortWarnings(found);
}

/** lintResult reads what `--call check,format=json` printed: BuildKit's lint result, its warnings and build error. */
function lintResult(stdout: string): { warnings: Observed[]; error: string | undefined } {
  const result = JSON.parse(stdout) as LintResults;
  const warnings = (result.warnings ?? []).map(
    (w): Observed => [w.ruleName, w.detail ?? '', w.location.ranges?.[0]?.start.line ?? 0, w.description ?? '', w.url ?? ''],
  );
  return { warnings: sortWarnings(warnings), error: result.buildError?.message };
}

/**
 * checkLinterWarnings runs one of BuildKit's lint calls as its checkUnmarshal does, through `--call check,format=json`
 * (the lint request: its warnings and error), and as its checkProgressStream does, as a build whose progress holds
 * the warnings, when the build must fail. It returns the differences found, each naming the call.
 */
export async function checkLinterWarnings(suite: BuildkitSuite, call: LintCall, name: string): Promise<string[]> {
  const problems: string[] = [];
  const files: Record<string, string> = { Dockerfile: call.dockerfile };
  if (call.dockerignore !== undefined) files['.dockerignore'] = call.dockerignore;
  const dir = await suite.context(files);
  const buildArgs = call.buildArgs ?? {};
  const platform = call.platform === undefined ? [] : ['--platform', call.platform];
  // To keep the suite fast, the build (warntype=progress) runs only for calls whose build must fail: the warnings of
  // both are the same rules, checked through the lint request.
  const mustFail = call.buildErr !== undefined || call.buildErrRegexp !== undefined;
  const [lint, build] = await Promise.all([
    suite.build({ dir, buildArgs, output: 'none', args: ['--call', 'check,format=json', ...platform] }),
    mustFail ? suite.build({ dir, buildArgs, output: 'none', args: ['--progress', 'json', ...platform] }) : undefined,
  ]);
  // warntype=unmarshal: the lint result's warnings, and its error only when BuildKit's build fails with BuildErr.
  let result: { warnings: Observed[]; error: string | undefined };
  try {
    result = lintResult(lint.stdout);
  } catch (err) {
    return [`${name} warntype=unmarshal: no lint result (${String(err)}): ${lint.stderr.slice(-400)}`];
  }
  const want = expectedOf(call.lintWarnings ?? call.warnings);
  if (JSON.stringify(result.warnings) !== JSON.stringify(want)) problems.push(`${name} warntype=unmarshal: warnings ${JSON.stringify(result.warnings)}, BuildKit ${JSON.stringify(want)}`);
  if (result.error !== call.buildErr) problems.push(`${name} warntype=unmarshal: error ${JSON.stringify(result.error)}, BuildKit ${JSON.stringify(call.buildErr)}`);
  if (build === undefined) return problems;
  // warntype=progress: the build fails with BuildErr (or as StreamBuildErrRegexp says), and reports the warnings.
  const got = progressWarnings(build.stderr);
  const wanted = expectedOf(call.warnings);
  if (JSON.stringify(got) !== JSON.stringify(wanted)) problems.push(`${name} warntype=progress: warnings ${JSON.stringify(got)}, BuildKit ${JSON.stringify(wanted)}`);
  const output = `${build.stdout}\n${build.stderr}`;
  if (build.code === 0) problems.push(`${name} warntype=progress: the build succeeded`);
  else if (call.buildErr !== undefined && !output.includes(call.buildErr)) problems.push(`${name} warntype=progress: no error "${call.buildErr}"`);
  else if (call.buildErrRegexp !== undefined && !new RegExp(call.buildErrRegexp).test(output)) problems.push(`${name} warntype=progress: no error matching /${call.buildErrRegexp}/`);
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
