import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild } from '../helpers/cli.js';
import { startServe } from '../helpers/remote-server.js';

describe('tbuild build --call', () => {
  it('prints the targets and the outline without resolving or running anything', async () => {
    await using tmp = await makeTempDir();
    // The base is unreachable: describing the Dockerfile must not touch it.
    await writeFile(join(tmp.path, 'Dockerfile'), '# app the application\nFROM 127.0.0.1:9/none/base AS app\n# MODE build mode\nARG MODE=release\nRUN --mount=type=secret,id=token make\n');
    const root = join(tmp.path, 'root');
    const targets = await runTbuild(['build', '--root', root, '--call', 'targets', tmp.path]);
    expect(targets.code, targets.stderr).toBe(0);
    expect(targets.stdout).toBe('TARGET        DESCRIPTION\napp (default) the application\n');
    const outline = await runTbuild(['build', '--root', root, '--call', 'outline', tmp.path]);
    expect(outline.code, outline.stderr).toBe(0);
    expect(outline.stdout).toMatch(/MODE +release +build mode/);
    expect(outline.stdout).toMatch(/SECRET +REQUIRED\ntoken +\n/);
    const json = await runTbuild(['build', '--root', root, '--call', 'outline,format=json', '--build-arg', 'MODE=debug', tmp.path]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ name: 'app', description: 'the application', args: [{ name: 'MODE', value: 'debug' }], secrets: [{ name: 'token' }] });
  });
});

describe('tbuild build --check and --call check: the exit status', () => {
  it('is 1 with findings as buildx exits with the lint result\'s status, 0 with ignorestatus=true or none; the same on a builder', async () => {
    await using tmp = await makeTempDir();
    const contexts: Record<string, string> = {
      warn: 'FROM scratch as Base\n',
      clean: 'FROM scratch AS base\n',
      fatal: '# check=error=true\nFROM scratch as Base\n',
    };
    for (const [name, dockerfile] of Object.entries(contexts)) {
      await mkdir(join(tmp.path, name));
      await writeFile(join(tmp.path, name, 'Dockerfile'), dockerfile);
    }
    const builder = `unix://${join(tmp.path, 'tbuild.sock')}`;
    await using server = await startServe(['--addr', builder, '--root', join(tmp.path, 'server-root')]);
    const env = { XDG_CONFIG_HOME: join(tmp.path, 'client-config'), XDG_CACHE_HOME: join(tmp.path, 'client-cache') };
    for (const where of [['--root', join(tmp.path, 'root')], ['--builder', builder]]) {
      const check = async (call: string, name: string): Promise<{ code: number; stdout: string }> => {
        const res = await runTbuild(['build', ...where, call, join(tmp.path, name)], { env });
        return { code: res.code, stdout: res.stdout };
      };
      const warned = await check('--check', 'warn');
      expect(warned, `${where[0]} --check`).toMatchObject({ code: 1, stdout: expect.stringContaining('Check complete, 2 warnings have been found!') });
      expect(await check('--call=check,ignorestatus=true', 'warn'), `${where[0]} ignorestatus`).toEqual({ code: 0, stdout: warned.stdout });
      const json = await check('--call=check,format=json', 'warn');
      expect(json.code, `${where[0]} format=json`).toBe(1);
      expect((JSON.parse(json.stdout) as { warnings: unknown[] }).warnings).toHaveLength(2);
      expect(await check('--check', 'clean'), `${where[0]} no findings`).toEqual({ code: 0, stdout: 'Check complete, no warnings found.\n' });
      // A `# check=error=true` violation fails the call whatever ignorestatus says, as buildx returns it as an error.
      expect((await check('--call=check,ignorestatus=true', 'fatal')).code, `${where[0]} error=true`).toBe(1);
    }
    expect(server.log()).not.toMatch(/"level":"error"/);
  });
});
