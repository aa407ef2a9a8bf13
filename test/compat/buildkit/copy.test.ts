// Ported from moby/buildkit frontend/dockerfile/dockerfile_copy_test.go: each case names its test function.
import { lstat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { adduser, BUSYBOX_ACCOUNTS, buildkitSuite, dir, fails, file, link, ok, socket } from './harness.js';


describe('BuildKit dockerfile_copy_test.go', () => {
  const { build, context, port, succeeds } = buildkitSuite('dockerfile_copy_test.go');

  // dockerfile_copy_test.go testDockerfileCopyFromArgs
  port('testDockerfileCopyFromArgs', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY --from=$FOO . .\n' }, output: 'none' });
    fails(res, 'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround');
  });

  // dockerfile_copy_test.go testEmptyDestDir
  port('testEmptyDestDir', async () => {
    await succeeds({ Dockerfile: '\nFROM busybox\nENV empty=""\nCOPY testfile $empty\nRUN [ "$(cat testfile)" == "contents0" ]\n', testfile: 'contents0' });
  });

  // dockerfile_copy_test.go testPreserveDestDirSlash
  port('testPreserveDestDirSlash', async () => {
    await succeeds({ Dockerfile: '\nFROM busybox\nCOPY testfile /sample/\nRUN [ "$(cat /sample/testfile)" == "contents0" ]\n', testfile: 'contents0' });
  });

  // dockerfile_copy_test.go testCopyLinkDotDestDir
  port('testCopyLinkDotDestDir', async () => {
    await succeeds({ Dockerfile: '\nFROM busybox\nWORKDIR /var/www\nCOPY --link testfile .\nRUN [ "$(cat testfile)" == "contents0" ]\n', testfile: 'contents0' });
  });

  // dockerfile_copy_test.go testCopyLinkEmptyDestDir
  port('testCopyLinkEmptyDestDir', async () => {
    await succeeds({
      Dockerfile: '\nFROM busybox\nWORKDIR /var/www\nENV empty=""\nCOPY --link testfile $empty\nRUN [ "$(cat testfile)" == "contents0" ]\n',
      testfile: 'contents0',
    });
  });

  // dockerfile_copy_test.go testCopyChownExistingDir
  const check = (e: string, p: string): string =>
    ` && e="${e}"; p="${p}"; a=\`stat -c "%u:%g" "$p"\`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi`;
  const checks = (pairs: [string, string][]): string => `RUN true${pairs.map(([e, p]) => `${check(e, p)} \\\n`).join('')}`.replace(/ \\\n$/, '\n');
  const chownExisting = `
# Set up files and directories with known ownership
FROM busybox AS source
RUN touch /file && chown 100:200 /file \\
 && mkdir -p /dir/subdir \\
 && touch /dir/subdir/nestedfile \\
 && chown 100:200 /dir \\
 && chown 101:201 /dir/subdir \\
 && chown 102:202 /dir/subdir/nestedfile

FROM busybox AS test_base
RUN mkdir -p /existingdir/existingsubdir \\
 && touch /existingdir/existingfile \\
 && chown 500:600 /existingdir \\
 && chown 501:601 /existingdir/existingsubdir \\
 && chown 501:601 /existingdir/existingfile

FROM test_base AS copy_from
COPY --from=source /file .
COPY --from=source /dir /dir
COPY --from=source /dir/. /existingdir
${checks([
  ['100:200', '/file'], ['0:0', '/dir'], ['101:201', '/dir/subdir'], ['102:202', '/dir/subdir/nestedfile'],
  ['500:600', '/existingdir'], ['501:601', '/existingdir/existingsubdir'], ['501:601', '/existingdir/existingfile'],
  ['101:201', '/existingdir/subdir'], ['102:202', '/existingdir/subdir/nestedfile'],
])}
FROM test_base AS copy_from_chowned
COPY --from=source --chown=300:400 /file .
COPY --from=source --chown=300:400 /dir /dir
COPY --from=source --chown=300:400 /dir/. /existingdir
${checks([
  ['300:400', '/file'], ['300:400', '/dir'], ['300:400', '/dir/subdir'], ['300:400', '/dir/subdir/nestedfile'],
  ['500:600', '/existingdir'], ['501:601', '/existingdir/existingsubdir'], ['501:601', '/existingdir/existingfile'],
  ['300:400', '/existingdir/subdir'], ['300:400', '/existingdir/subdir/nestedfile'],
])}`;
  // BuildKit solves the default target (copy_from_chowned) and then the copy_from target of the same Dockerfile.
  port('testCopyChownExistingDir', async () => {
    const d = await context({ 'Dockerfile.web': chownExisting, Dockerfile: link('Dockerfile.web') });
    ok(await build({ dir: d, output: 'none' }));
  }, 'chowned');
  port('testCopyChownExistingDir', async () => {
    const d = await context({ 'Dockerfile.web': chownExisting, Dockerfile: link('Dockerfile.web') });
    ok(await build({ dir: d, output: 'none', target: 'copy_from' }));
  }, 'copy_from');

  // dockerfile_copy_test.go testCopyWildcardCache
  port('testCopyWildcardCache', async () => {
    const d = await context({
      Dockerfile: '\nFROM busybox AS base\nCOPY foo* files/\nRUN cat /dev/urandom | head -c 100 | sha256sum > unique\nCOPY bar files/\nFROM scratch\nCOPY --from=base unique /\n',
      foo1: 'foo1-data',
      foo2: 'foo2-data',
      bar: 'bar-data',
    });
    const first = await build({ dir: d });
    ok(first);
    const dt = await first.read('unique');
    await writeFile(join(d, 'bar'), 'bar-data-mod');
    const second = await build({ dir: d });
    ok(second);
    expect(await second.read('unique')).toBe(dt);
    await writeFile(join(d, 'foo2'), 'foo2-data-mod');
    const third = await build({ dir: d });
    ok(third);
    expect(await third.read('unique')).not.toBe(dt);
  });

  // dockerfile_copy_test.go testEmptyWildcard
  port('testEmptyWildcard', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY foo nomatch* /\n', foo: 'contents0' } });
    ok(res);
    expect(await res.read('foo')).toBe('contents0');
  });

  // dockerfile_copy_test.go testCopyChownCreateDest
  port('testCopyChownCreateDest', async () => {
    await succeeds({
      Dockerfile: `
FROM busybox
ARG group
ENV owner user01
${adduser('user', 1001)}
${adduser('user01', 1002)}
COPY --chown=user:user . /dest
COPY --chown=\${owner}:\${group} . /dest01
RUN [ "$(stat -c "%U %G" /dest)" == "user user" ]
RUN [ "$(stat -c "%U %G" /dest01)" == "user01 user" ]
`,
    }, { buildArgs: { group: 'user' } });
  });

  // dockerfile_copy_test.go testCopyThroughSymlinkContext
  port('testCopyThroughSymlinkContext', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM scratch\nCOPY link/foo .\n', link: link('sub'), sub: dir(0o700), 'sub/foo': file('contents') },
    });
    ok(res);
    expect(await res.read('foo')).toBe('contents');
  });

  // dockerfile_copy_test.go testCopyThroughSymlinkMultiStage
  port('testCopyThroughSymlinkMultiStage', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS build
RUN mkdir -p /out/sub && ln -s /out/sub /sub && ln -s out/sub /sub2 && echo -n "data" > /sub/foo
FROM scratch
COPY --from=build /sub/foo .
COPY --from=build /sub2/foo bar
`,
      },
    });
    ok(res);
    expect(await res.read('foo')).toBe('data');
  });

  // dockerfile_copy_test.go testCopySocket
  port('testCopySocket', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY . /\n', 'socket.sock': socket() } });
    ok(res);
    // make sure socket is converted to regular file.
    expect((await lstat(join(res.out, 'socket.sock'))).isFile()).toBe(true);
  });

  // dockerfile_copy_test.go testCopyFollowAllSymlinks
  port('testCopyFollowAllSymlinks', async () => {
    await succeeds({ Dockerfile: '\nFROM scratch\nCOPY foo /\nCOPY foo/sub bar\n', bar: file('bar-contents'), foo: dir(0o700), 'foo/sub': link('../bar') });
  });

  // dockerfile_copy_test.go testCopySymlinks
  port('testCopySymlinks', async () => {
    const res = await build({
      files: {
        Dockerfile: '\nFROM scratch\nCOPY foo /\nCOPY sub/l* alllinks/\n',
        bar: file('bar-contents'),
        foo: link('bar'),
        sub: dir(0o700),
        'sub/lfile': file('lfile-contents'),
        'sub/l0': link('subfile'),
        'sub/subfile': file('subfile-contents'),
        'sub/l1': link('second'),
        'sub/second': link('baz'),
        'sub/baz': file('baz-contents'),
      },
    });
    ok(res);
    expect(await res.read('foo')).toBe('bar-contents');
    expect(await res.read('alllinks/l0')).toBe('subfile-contents');
    expect(await res.read('alllinks/lfile')).toBe('lfile-contents');
    expect(await res.read('alllinks/l1')).toBe('baz-contents');
  });

  // dockerfile_copy_test.go testCopyChown
  port('testCopyChown', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS base
${BUSYBOX_ACCOUNTS}
ENV owner 1000
RUN mkdir -m 0777 /out
COPY --chown=daemon foo /
COPY --chown=1000:nobody bar /baz
ARG group
COPY --chown=\${owner}:\${group} foo /foobis
RUN stat -c "%U %G" /foo  > /out/fooowner
RUN stat -c "%u %G" /baz/sub  > /out/subowner
RUN stat -c "%u %G" /foobis  > /out/foobisowner
FROM scratch
COPY --from=base /out /
`,
        foo: file('foo-contents'),
        bar: dir(0o700),
        'bar/sub': file(''),
      },
      buildArgs: { group: 'nobody' },
    });
    ok(res);
    expect(await res.read('fooowner')).toBe('daemon daemon\n');
    expect(await res.read('subowner')).toBe('1000 nobody\n');
    expect(await res.read('foobisowner')).toBe('1000 nobody\n');
  });

  // dockerfile_copy_test.go testCopyChmod
  port('testCopyChmod', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS base
RUN mkdir -m 0777 /out
COPY --chmod=0644 foo /
COPY --chmod=777 bar /baz
COPY --chmod=0 foo /foobis
COPY --chmod=777 foo /parent/foo
COPY --chmod=770 foo /parent/sub/foo
ARG mode
COPY --chmod=\${mode} foo /footer
RUN stat -c "%04a" /foo  > /out/fooperm
RUN stat -c "%04a" /baz  > /out/barperm
RUN stat -c "%04a" /foobis  > /out/foobisperm
RUN stat -c "%04a" /parent  > /out/parentperm
RUN stat -c "%04a" /parent/sub  > /out/subparentperm
RUN stat -c "%04a" /footer  > /out/footerperm
FROM scratch
COPY --from=base /out /
`,
        foo: file('foo-contents'),
        bar: file('bar-contents', 0o700),
      },
      buildArgs: { mode: '755' },
    });
    ok(res);
    expect(await res.read('fooperm')).toBe('0644\n');
    expect(await res.read('barperm')).toBe('0777\n');
    expect(await res.read('foobisperm')).toBe('0000\n');
    expect(await res.read('parentperm')).toBe('0777\n');
    expect(await res.read('subparentperm')).toBe('0770\n');
    expect(await res.read('footerperm')).toBe('0755\n');
  });

  // dockerfile_copy_test.go testCopyInvalidChmod
  port('testCopyInvalidChmod', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY --chmod=64a foo /\n', foo: file('foo-contents') }, output: 'none' });
    fails(res, "invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777");
    const res2 = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY --chmod=10000 foo /\n', foo: file('foo-contents') }, output: 'none' });
    fails(res2, "invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777");
  });

  // dockerfile_copy_test.go testCopyOverrideFiles
  port('testCopyOverrideFiles', async () => {
    const res = await build({
      files: {
        Dockerfile: '\nFROM scratch AS base\nCOPY sub sub\nCOPY sub sub\nCOPY files/foo.go dest/foo.go\nCOPY files/foo.go dest/foo.go\nCOPY files dest\n',
        sub: dir(0o700),
        'sub/dir1': dir(0o700),
        'sub/dir1/dir2': dir(0o700),
        'sub/dir1/dir2/foo': file('foo-contents'),
        files: dir(0o700),
        'files/foo.go': file('foo.go-contents'),
      },
    });
    ok(res);
    expect(await res.read('sub/dir1/dir2/foo')).toBe('foo-contents');
    expect(await res.read('dest/foo.go')).toBe('foo.go-contents');
  });

  // dockerfile_copy_test.go testCopyVarSubstitution
  port('testCopyVarSubstitution', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch AS base\nENV FOO bar\nCOPY $FOO baz\n', bar: file('bar-contents') } });
    ok(res);
    expect(await res.read('baz')).toBe('bar-contents');
  });

  // dockerfile_copy_test.go testCopyWildcards
  port('testCopyWildcards', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM scratch AS base
COPY *.go /gofiles/
COPY f*.go foo2.go
COPY sub/* /subdest/
COPY sub/*/dir2/foo /subdest2/
COPY sub/*/dir2/foo /subdest3/bar
COPY . all/
COPY sub/dir1/ subdest4
COPY sub/dir1/. subdest5
COPY sub/dir1 subdest6
`,
        'foo.go': file('foo-contents'),
        'bar.go': file('bar-contents'),
        sub: dir(0o700),
        'sub/dir1': dir(0o700),
        'sub/dir1/dir2': dir(0o700),
        'sub/dir1/dir2/foo': file('foo-contents'),
      },
    });
    ok(res);
    expect(await res.read('gofiles/foo.go')).toBe('foo-contents');
    expect(await res.read('gofiles/bar.go')).toBe('bar-contents');
    expect(await res.read('foo2.go')).toBe('foo-contents');
    expect(await res.read('subdest/dir2/foo')).toBe('foo-contents');
    expect(await res.read('subdest2/foo')).toBe('foo-contents');
    expect(await res.read('subdest3/bar')).toBe('foo-contents');
    expect(await res.read('all/foo.go')).toBe('foo-contents');
    expect(await res.read('subdest4/dir2/foo')).toBe('foo-contents');
    expect(await res.read('subdest5/dir2/foo')).toBe('foo-contents');
    expect(await res.read('subdest6/dir2/foo')).toBe('foo-contents');
  });

  // dockerfile_copy_test.go testCopyRelative
  port('testCopyRelative', async () => {
    await succeeds({
      Dockerfile: `
FROM busybox
WORKDIR /test1
WORKDIR test2
RUN sh -c "[ "$PWD" = '/test1/test2' ]"
COPY foo ./
RUN sh -c "[ $(cat /test1/test2/foo) = 'hello' ]"
ADD foo ./bar/baz
RUN sh -c "[ $(cat /test1/test2/bar/baz) = 'hello' ]"
COPY foo ./bar/baz2
RUN sh -c "[ $(cat /test1/test2/bar/baz2) = 'hello' ]"
WORKDIR ..
COPY foo ./
RUN sh -c "[ $(cat /test1/foo) = 'hello' ]"
COPY foo /test3/
RUN sh -c "[ $(cat /test3/foo) = 'hello' ]"
WORKDIR /test4
COPY . .
RUN sh -c "[ $(cat /test4/foo) = 'hello' ]"
WORKDIR /test5/test6
COPY foo ../
RUN sh -c "[ $(cat /test5/foo) = 'hello' ]"
`,
      foo: file('hello'),
    });
  });

  // dockerfile_copy_test.go testCopyUnicodePath (alpine there; busybox here: only COPY runs)
  port('testCopyUnicodePath', async () => {
    const res = await build({
      files: {
        Dockerfile: '\nFROM busybox\nCOPY test-äöü.txt /\nCOPY test-%C3%A4%C3%B6%C3%BC.txt /\nCOPY test+aou.txt /\n',
        'test-äöü.txt': file('foo', 0o644),
        'test-%C3%A4%C3%B6%C3%BC.txt': file('bar', 0o644),
        'test+aou.txt': file('baz', 0o644),
      },
    });
    ok(res);
    expect(await res.read('test-äöü.txt')).toBe('foo');
    expect(await res.read('test-%C3%A4%C3%B6%C3%BC.txt')).toBe('bar');
    expect(await res.read('test+aou.txt')).toBe('baz');
  });

  // dockerfile_copy_test.go testChmodNonOctal (alpine there; busybox has the same sh, cp -a, chmod and stat)
  port('testChmodNonOctal', async () => {
    const cases = [
      { src: 'file', dst: 'f1', mode: 'go-w', isDir: false },
      { src: 'file', dst: 'f2', mode: 'u=rw,g=r,o=r', isDir: false },
      { src: 'file', dst: 'f3', mode: 'a+X', isDir: false },
      { src: 'dir', dst: 'd1', mode: 'go-w', isDir: true },
      { src: 'dir', dst: 'd2', mode: 'u+rw,g+r,o-x,o+w', isDir: true },
      { src: 'dir', dst: 'd3', mode: 'a+X', isDir: true },
    ];
    let expected = '';
    let copies = '';
    let verify = '';
    for (const tc of cases) {
      if (tc.isDir) {
        expected += `RUN mkdir -p /input/dirs/${tc.dst} && cp -a /input/${tc.src} /input/dirs/${tc.dst}/${tc.dst}\n`;
        expected += `RUN cp -a /input/dirs/${tc.dst}/. /expected/ && chmod ${tc.mode} /expected/${tc.dst}\n`;
        copies += `COPY --from=base --chmod=${tc.mode} /input/dirs/${tc.dst} /\n`;
      } else {
        expected += `RUN cp -a /input/${tc.src} /expected/${tc.dst} && chmod ${tc.mode} /expected/${tc.dst}\n`;
        copies += `COPY --from=base --chmod=${tc.mode} /input/${tc.src} /${tc.dst}\n`;
      }
      verify += `RUN [ "$(stat -c %A /actual/${tc.dst})" = "$(stat -c %A /expected/${tc.dst})" ]\n`;
    }
    const dockerfile = `
FROM busybox as base
RUN <<eot
	set -ex
	mkdir /input
	touch /input/file
	chmod 666 /input/file
	mkdir /input/dir
	chmod 124 /input/dir
	mkdir /expected
eot
${expected}
FROM scratch as result
${copies}
FROM base
COPY --from=result / /actual/
${verify}
`;
    ok(await build({ files: { Dockerfile: dockerfile }, output: 'none' }));
  });

  // dockerfile_copy_test.go testLocalCustomSessionID: the "base" stage is replaced by a local named context.
  port('testLocalCustomSessionID', async () => {
    const dfDir = await context({ Dockerfile: '\nFROM scratch AS base\nFROM scratch\nCOPY out /out1\nCOPY --from=base /another /out2\n' });
    const ctx = await context({ out: file('contents1') });
    const basedir = await context({ another: file('contents2') });
    const res = await build({ dir: ctx, args: ['-f', join(dfDir, 'Dockerfile'), '--build-context', `base=${basedir}`] });
    ok(res);
    expect(await res.read('out1')).toBe('contents1');
    expect(await res.read('out2')).toBe('contents2');
  });
});



