import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild } from '../helpers/cli.js';

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
