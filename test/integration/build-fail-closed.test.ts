import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, runTbuild, type TempDir } from '../helpers/cli.js';

/**
 * A buildx flag tbuild cannot honour fails the command before any step runs (exit status 2, nothing in the state
 * folder), instead of being ignored or failing after the build.
 */
describe('tbuild build fails closed', () => {
  let tmp: TempDir;
  let ctx: string;
  // Each case has a state folder of its own: one that wrongly builds cannot hide whether another made its folder.
  const root = (what: string): string => join(tmp.path, `root-${what.replace(/\W+/g, '-')}`);

  beforeAll(async () => {
    tmp = await makeTempDir();
    ctx = join(tmp.path, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN touch /ran\n');
  });
  afterAll(async () => {
    await tmp[Symbol.asyncDispose]();
  });

  const cases: [string, string[], RegExp][] = [
    ['--push without a name', ['--push'], /Cannot push the image: tag is needed when pushing to registry/],
    ['type=registry without a name', ['-o', 'type=registry'], /tag is needed when pushing to registry/],
    ['type=image,push=true without a name', ['-o', 'type=image,push=true'], /tag is needed when pushing to registry/],
    ['a tag with a space', ['-t', 'Bad Name'], /invalid tag "Bad Name": invalid reference format/],
    ['an uppercase repository', ['-t', 'reg.example/UPPER/case'], /invalid tag "reg.example\/UPPER\/case": repository name must be lowercase/],
    ['an output attribute tbuild does not implement', ['-o', 'type=image,name=x,unpack=true'], /--output type=image: attribute "unpack" is not supported/],
    ['a local output attribute', ['-o', 'type=local,dest=out,compression=gzip'], /--output type=local: attribute "compression" is not supported/],
    ['a cache backend tbuild has no client for', ['--cache-to', 'type=gha,scope=ci'], /--cache-to type=gha: tbuild does not support the gha cache backend/],
    ['a cache attribute', ['--cache-from', 'type=registry,ref=r.example/c,foo=bar'], /attribute "foo" is not supported/],
    ['a secret attribute', ['--secret', 'id=a,src=x,mode=0400'], /--secret "id=a,src=x,mode=0400": unexpected key "mode"/],
    ['a missing secret file', ['--secret', 'id=token,src=/nonexistent/token'], /Cannot use --secret id=token: failed to stat \/nonexistent\/token/],
    ['a boolean flag given a word', ['--pull=yes'], /Cannot use --pull="yes": expected a boolean/],
    ['--iidfile with a tar output', ['--iidfile', 'iid', '-o', 'type=tar,dest=out.tar'], /local and tar exporters are incompatible with image ID file/],
    ['tar=false to standard output', ['-o', 'type=oci,dest=-,tar=false'], /tar=false with dest=-/],
  ];
  for (const [what, args, message] of cases) {
    it(`refuses ${what} before the build`, async () => {
      const res = await runTbuild(['build', '--root', root(what), '--progress', 'plain', ...args, ctx], { cwd: tmp.path });
      expect(res.stderr).toMatch(message);
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr).not.toMatch(/^#\d+ /m);
      await expect(readdir(root(what))).rejects.toThrow(/ENOENT/);
    });
  }
});
