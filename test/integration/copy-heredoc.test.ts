import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { runTbuild } from '../helpers/cli.js';

/** Current BuildKit makes each heredoc a 0644 file on scratch and copies it like a file from the context. */
const DOCKERFILE = `FROM busybox
RUN mkdir /existing-dir
COPY <<EOF /existing-dir
into the folder
EOF
COPY --chmod=u+x <<EOF /x
symbolic mode
EOF
COPY --chmod=0700 <<EOF /made/by/copy/file
octal mode
EOF
COPY <<EOF ctx.txt /last
the heredoc, copied after the paths
EOF
`;

describe('COPY heredocs, end to end', () => {
  const env = useBuildEnvironment();

  it('copies each heredoc like a file: into an existing folder, with symbolic --chmod, creating folders', async () => {
    const ctx = join(env.tmp.path, 'ctx');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), DOCKERFILE);
    await writeFile(join(ctx, 'ctx.txt'), 'from the context\n');
    const out = join(env.tmp.path, 'out');
    const res = await runTbuild(['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', '--output', `type=local,dest=${out}`, ctx]);
    expect(res.code, res.stderr).toBe(0);
    expect(await readFile(join(out, 'existing-dir', 'EOF'), 'utf8')).toBe('into the folder\n');
    expect((await stat(join(out, 'x'))).mode & 0o7777).toBe(0o744);
    expect((await stat(join(out, 'made', 'by', 'copy', 'file'))).mode & 0o7777).toBe(0o700);
    expect((await stat(join(out, 'made', 'by'))).mode & 0o7777).toBe(0o700);
    expect(await readFile(join(out, 'last'), 'utf8')).toBe('the heredoc, copied after the paths\n');
  });
});
