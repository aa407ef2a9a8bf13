import { describe, expect, it } from 'vitest';
import { compileDockerfile } from '../../../frontend/index.js';
import type { CopyAction } from '../../../solver/graph/index.js';
import { compileOptions, vertices } from './compile-fixture.js';

/** copies lists the copy actions of a Dockerfile's graph by destination, and the kinds of op it has. */
async function compile(text: string): Promise<{ copies: Map<string, CopyAction>; kinds: string[] }> {
  const def = await compileDockerfile(text, compileOptions());
  const copies = new Map<string, CopyAction>();
  const kinds: string[] = [];
  for (const v of vertices(def.root)) {
    kinds.push(v.op.kind);
    if (v.op.kind !== 'file') continue;
    for (const a of v.op.actions) if (a.action === 'copy') copies.set(a.dest, a);
  }
  return { copies, kinds };
}

describe('COPY and ADD actions', () => {
  it('extracts a downloaded archive only with ADD --unpack=true, and a local one unless --unpack=false', async () => {
    // dockerfile2llb: a URL gets AttemptUnpack only from --unpack (default false); a local path from ADD (default true).
    const { copies } = await compile(
      [
        'FROM busybox',
        'ADD https://example.com/a.tar.gz /default/',
        'ADD --unpack=true https://example.com/a.tar.gz /unpacked',
        'ADD --unpack=false https://example.com/a.tar.gz /kept/',
        'ADD local.tar /local/',
        'ADD --unpack=false local.tar /local-kept/',
        'ADD --unpack=true https://example.com/repo.git /git/',
        'COPY local.tar /copied/',
        '',
      ].join('\n'),
    );
    const extract = (dest: string): boolean | undefined => copies.get(dest)?.extractArchives;
    expect(extract('/default/')).toBe(false);
    expect(extract('/unpacked')).toBe(true);
    expect(copies.get('/unpacked')?.sources).toEqual(['a.tar.gz']);
    expect(extract('/kept/')).toBe(false);
    expect(extract('/local/')).toBe(true);
    expect(extract('/local-kept/')).toBe(false);
    expect(extract('/git/')).toBe(false);
    expect(extract('/copied/')).toBe(false);
  });

  it('links COPY --link onto scratch, but copies onto the stage when --chmod is given, as BuildKit does', async () => {
    const linked = await compile('FROM busybox\nCOPY --link a.txt /srv/\n');
    expect(linked.kinds).toContain('merge');
    const withChmod = await compile('FROM busybox\nCOPY --link --chmod=0700 a.txt /srv/\n');
    expect(withChmod.kinds).not.toContain('merge');
    expect(withChmod.copies.get('/srv/')?.chmod).toBe('0700');
  });

  it('refuses a --chmod that looks numeric but is no octal mode up to 07777, in BuildKit\'s words', async () => {
    for (const bad of ['64a', '10000', '9']) {
      await expect(compileDockerfile(`FROM busybox\nCOPY --chmod=${bad} a.txt /\n`, compileOptions())).rejects.toThrow(
        `invalid chmod parameter: '${bad}'. it should be octal string and between 0 and 07777`,
      );
    }
    await expect(compileDockerfile('FROM busybox\nADD --chmod=64a a.tar /\n', compileOptions())).rejects.toThrow('invalid chmod parameter');
    for (const good of ['0', '755', '04755', '7777', 'u+x,g-w']) {
      const { copies } = await compile(`FROM busybox\nCOPY --chmod=${good} a.txt /d/\n`);
      expect(copies.get('/d/')?.chmod).toBe(good);
    }
  });
});
