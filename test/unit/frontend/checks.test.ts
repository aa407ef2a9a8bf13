import { describe, expect, it } from 'vitest';
import { compileDockerfile } from '../../../frontend/index.js';
import { compileOptions } from './compile-fixture.js';

async function findings(text: string, buildArgs: Record<string, string> = {}): Promise<[string, string, number | undefined][]> {
  const def = await compileDockerfile(text, compileOptions({ buildArgs: new Map(Object.entries(buildArgs)), checkOnly: true }));
  return def.warnings.map((w) => [w.rule, w.message, w.location?.startLine]);
}

describe('Dockerfile checks', () => {
  it('applies a `# check=` comment to the instruction below it only', async () => {
    const text = 'FROM scratch\n# check=skip=MaintainerDeprecated\nMAINTAINER a\nMAINTAINER b\n';
    expect(await findings(text)).toEqual([['MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', 4]]);
  });

  it('does not read the check directive as a comment of the first instruction: a build arg replaces it', async () => {
    const text = '#check=skip=all\nFROM scratch as base\n';
    expect(await findings(text)).toEqual([]);
    expect(await findings(text, { BUILDKIT_DOCKERFILE_CHECK: 'skip=ConsistentInstructionCasing' })).toEqual([
      ['FromAsCasing', "'as' and 'FROM' keywords' casing do not match", 2],
    ]);
  });

  it('names ARG and ENV keys that read like secrets, not those marked public, file or version', async () => {
    const text = 'FROM scratch\nARG GITHUB_TOKEN PUBLIC_KEY\nENV db_password=x password_file=y AUTH_VERSION=1\n';
    expect((await findings(text)).map(([, message]) => message)).toEqual([
      'Do not use ARG or ENV instructions for sensitive data (ARG "GITHUB_TOKEN")',
      'Do not use ARG or ENV instructions for sensitive data (ENV "db_password")',
    ]);
  });

  it('reports a repeated CMD at the one that is ignored, and a relative first WORKDIR', async () => {
    const text = 'FROM scratch\nWORKDIR app\nWORKDIR more\nCMD ["a"]\nCMD ["b"]\n';
    expect(await findings(text)).toEqual([
      ['WorkdirRelativePath', 'Relative workdir "app" can have unexpected results if the base image changes', 2],
      ['MultipleInstructionsDisallowed', 'Multiple CMD instructions should not be used in the same stage because only the last one will be used', 4],
    ]);
  });

  it('fails a build with error=true after collecting the findings', async () => {
    const def = await compileDockerfile('# check=error=true\nFROM scratch as a\n', compileOptions());
    expect(def.violation).toBe('lint violation found for rules: FromAsCasing');
    expect(def.checkFailed).toBe(true);
  });

  it('warns of context sources the ignore file excludes, unless it has exceptions', async () => {
    const text = 'FROM scratch\nCOPY ./a.txt keep.txt /\nADD dir/x /\nCOPY . /all\n';
    const found = async (contextIgnore: string[]): Promise<string[]> =>
      (await compileDockerfile(text, compileOptions({ contextIgnore }))).warnings.map((w) => `${w.message}:${w.location?.startLine}`);
    expect(await found(['a.txt', 'dir'])).toEqual([
      'Attempting to Copy file "a.txt" that is excluded by .dockerignore:2',
      'Attempting to Add file "dir/x" that is excluded by .dockerignore:3',
    ]);
    expect(await found(['*'])).toContain('Attempting to Copy file "." that is excluded by .dockerignore:4');
    expect(await found(['a.txt', '!keep.txt'])).toEqual([]);
  });

  it('warns of a base image made for another platform than the build asks for', async () => {
    const def = await compileDockerfile('FROM busybox\n', compileOptions({ targetPlatform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }));
    expect(def.warnings.map((w) => [w.rule, w.message])).toEqual([
      ['InvalidBaseImagePlatform', 'Base image busybox was pulled with platform "linux/amd64", expected "linux/arm64" for current build'],
    ]);
  });
});
