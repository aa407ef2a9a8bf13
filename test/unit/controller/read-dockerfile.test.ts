import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../base/errors.js';
import { readDockerfile } from '../../../controller/index.js';
import { makeTempDir } from '../../helpers/cli.js';

describe('readDockerfile', () => {
  it('falls back to a lowercase dockerfile when Dockerfile is missing, as BuildKit does', async () => {
    await using tmp = await makeTempDir();
    await writeFile(join(tmp.path, 'dockerfile'), 'FROM scratch\n');
    expect((await readDockerfile(join(tmp.path, 'Dockerfile'))).toString()).toBe('FROM scratch\n');
  });

  it('prefers Dockerfile, and falls back only for that name', async () => {
    await using tmp = await makeTempDir();
    await writeFile(join(tmp.path, 'Dockerfile'), 'FROM busybox\n');
    await writeFile(join(tmp.path, 'dockerfile'), 'FROM scratch\n');
    expect((await readDockerfile(join(tmp.path, 'Dockerfile'))).toString()).toBe('FROM busybox\n');
    await writeFile(join(tmp.path, 'app.dockerfile'), 'FROM scratch\n');
    await expect(readDockerfile(join(tmp.path, 'App.dockerfile'))).rejects.toBeInstanceOf(UsageError);
  });
});
