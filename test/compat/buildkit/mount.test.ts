// Ported from moby/buildkit frontend/dockerfile/dockerfile_mount_test.go: each case names its test function.
import { describe, expect } from 'vitest';
import { buildkitSuite, fails, file, ok } from './harness.js';

describe('BuildKit dockerfile_mount_test.go', () => {
  const { build, context, port, succeeds } = buildkitSuite('dockerfile_mount_test.go');

  // dockerfile_mount_test.go testMountContext
  port('testMountContext', async () => {
    await succeeds({ Dockerfile: '\nFROM busybox\nRUN --mount=target=/context [ "$(cat /context/testfile)" == "contents0" ]\n', testfile: file('contents0') });
  });

  // dockerfile_mount_test.go testMountTmpfs
  port('testMountTmpfs', async () => {
    await succeeds({ Dockerfile: '\nFROM busybox\nRUN --mount=target=/mytmp,type=tmpfs touch /mytmp/foo\nRUN [ ! -f /mytmp/foo ]\n' });
  });

  // dockerfile_mount_test.go testMountInvalid
  port('testMountInvalid', async () => {
    let res = await build({ files: { Dockerfile: '\nFROM scratch\nRUN --mont=target=/mytmp,type=tmpfs /bin/true\n' }, output: 'none' });
    fails(res, 'unknown flag: --mont');
    fails(res, 'did you mean mount?');
    res = await build({ files: { Dockerfile: '\n\tFROM scratch\n\tRUN --mount=typ=tmpfs /bin/true\n\t' }, output: 'none' });
    fails(res, "unexpected key 'typ'");
    fails(res, 'did you mean type?');
    res = await build({ files: { Dockerfile: '\n\tFROM scratch\n\tRUN --mount=type=tmp /bin/true\n\t' }, output: 'none' });
    fails(res, 'unsupported mount type "tmp"');
    fails(res, 'did you mean tmpfs?');
  });

  // dockerfile_mount_test.go testMountRWCache
  port('testMountRWCache', async () => {
    const dockerfile = `
from busybox AS build
copy cachebust /
run mkdir out && echo foo > out/foo
from busybox as second
RUN --mount=from=build,src=out,target=/out,rw touch /out/bar && cat /dev/urandom | head -c 100 | sha256sum > /unique
from scratch
COPY --from=second /unique /unique
`;
    const first = await build({ files: { Dockerfile: dockerfile, cachebust: file('0') } });
    ok(first);
    // repeat with changed file that should be still cached by content
    const second = await build({ files: { Dockerfile: dockerfile, cachebust: file('1') } });
    ok(second);
    expect(await second.read('unique')).toBe(await first.read('unique'));
  });

  // dockerfile_mount_test.go testCacheMountUser
  port('testCacheMountUser', async () => {
    await succeeds({ Dockerfile: '\nFROM busybox\nRUN --mount=type=cache,target=/mycache,uid=1001,gid=1002,mode=0751 [ "$(stat -c "%u %g %f" /mycache)" == "1001 1002 41e9" ]\n' });
  });

  // dockerfile_mount_test.go testCacheMountDefaultID
  port('testCacheMountDefaultID', async () => {
    await succeeds({
      Dockerfile:
        '\nFROM busybox\nRUN --mount=type=cache,target=/mycache touch /mycache/foo\nRUN --mount=type=cache,target=/mycache2 [ ! -f /mycache2/foo ]\nRUN --mount=type=cache,target=/mycache [ -f /mycache/foo ]\n',
    });
  });

  // dockerfile_mount_test.go testMountEnvVar
  port('testMountEnvVar', async () => {
    await succeeds({
      Dockerfile: '\nFROM busybox\nENV SOME_PATH=/mycache\nRUN --mount=type=cache,target=/mycache touch /mycache/foo\nRUN --mount=type=cache,target=$SOME_PATH [ -f $SOME_PATH/foo ]\n',
    });
  });

  // dockerfile_mount_test.go testMountArg
  port('testMountArg', async () => {
    await succeeds({
      Dockerfile: '\nFROM busybox\nARG MNT_TYPE=cache\nRUN --mount=type=$MNT_TYPE,target=/mycache2 touch /mycache2/foo\nRUN --mount=type=cache,target=/mycache2 [ -f /mycache2/foo ]\n',
    });
  });

  // dockerfile_mount_test.go testMountEnvAcrossStages
  port('testMountEnvAcrossStages', async () => {
    await succeeds({
      Dockerfile: `
FROM busybox as stage1
ENV MNT_ID=mycache
ENV MNT_TYPE2=cache
RUN --mount=type=cache,id=mycache,target=/abcabc touch /abcabc/foo
RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/cbacba [ -f /cbacba/foo ]
FROM stage1
RUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/whatever [ -f /whatever/foo ]
`,
    });
  });

  // dockerfile_mount_test.go testMountMetaArg
  port('testMountMetaArg', async () => {
    await succeeds({
      Dockerfile:
        '\nARG META_PATH=/tmp/meta\nFROM busybox\nARG META_PATH\nRUN --mount=type=cache,id=mycache,target=/tmp/meta touch /tmp/meta/foo\nRUN --mount=type=cache,id=mycache,target=$META_PATH [ -f /tmp/meta/foo ]\n',
    });
  });

  // dockerfile_mount_test.go testMountFromError
  port('testMountFromError', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM busybox as test\nRUN touch /tmp/test\nFROM busybox\nENV ttt=test\nRUN --mount=from=$ttt,type=cache,target=/tmp ls\n' },
      output: 'none',
    });
    fails(res, "'from' doesn't support variable expansion, define alias stage instead");
  });

  // dockerfile_mount_test.go testMountTmpfsSize
  port('testMountTmpfsSize', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM busybox AS base\nRUN --mount=type=tmpfs,target=/dev/shm,size=128m mount | grep /dev/shm > /tmpfssize\nFROM scratch\nCOPY --from=base /tmpfssize /\n' },
    });
    ok(res);
    expect(await res.read('tmpfssize')).toContain('size=131072k');
  });

  // dockerfile_mount_test.go testMountDuplicate
  port('testMountDuplicate', async () => {
    const dockerfile = `
FROM busybox AS base
RUN --mount=source=.,target=/tmp/test \\
  --mount=source=b.txt,target=/tmp/b.txt \\
  cat /tmp/test/a.txt /tmp/b.txt > /combined.txt
FROM scratch
COPY --from=base /combined.txt /
`;
    // Run this dockerfile a few times. It should update the context for a.txt properly and update the output.
    for (const text of ['foo\n', 'updated\n']) {
      const res = await build({ files: { Dockerfile: dockerfile, 'a.txt': file(text), 'b.txt': file('bar\n') } });
      ok(res);
      expect(await res.read('combined.txt')).toBe(`${text}bar\n`);
    }
  });

  // dockerfile_mount_test.go testCacheMountParallel (alpine there; busybox here). BuildKit repeats the --no-cache build
  // 20 times to surface a runc race; 5 times here to keep the suite fast.
  port('testCacheMountParallel', async () => {
    const d = await context({
      Dockerfile: `
FROM busybox AS b1
RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 1
FROM busybox AS b2
RUN --mount=type=cache,target=/foo/bar --mount=type=cache,target=/foo/bar/baz echo 2
FROM scratch
COPY --from=b1 /etc/passwd p1
COPY --from=b2 /etc/passwd p2
`,
    });
    for (let i = 0; i < 5; i++) ok(await build({ dir: d, output: 'none', args: ['--no-cache'] }));
  });

  // dockerfile_mount_test.go testCacheMountSourceEscape
  port('testCacheMountSourceEscape', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS init
RUN --mount=type=cache,id=sourceescape,target=/cache mkdir -p /cache/sel && echo benign > /cache/sel/benign.txt
FROM init AS link
RUN --mount=type=cache,id=sourceescape,target=/cache rm -rf /cache/sel && ln -s /etc /cache/sel
FROM link AS victim
RUN --mount=type=cache,id=sourceescape,source=sel,target=/victim cat /victim/hostname
FROM scratch
COPY --from=victim /etc/hostname /hostname
`,
      },
      output: 'none',
      args: ['--no-cache'],
    });
    // build must fail when a cache source= resolves through a link outside the cache root
    expect(res.code).not.toBe(0);
  });
});
