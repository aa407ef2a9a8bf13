// Ported from moby/buildkit frontend/dockerfile/dockerfile_add_test.go: each case names its test function.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { BUSYBOX_ACCOUNTS, buildkitSuite, fails, file, ok } from './harness.js';
import { makeTar, readTarToMap, useHttpServer } from './fixtures.js';

const sha256 = (b: string | Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const etag = (): string => Math.random().toString(36).slice(2);

describe('BuildKit dockerfile_add_test.go', () => {
  const { build, port } = buildkitSuite('dockerfile_add_test.go');
  const http = useHttpServer();

  // dockerfile_add_test.go testDockerfileADDFromURL
  port('testDockerfileADDFromURL', async () => {
    const modTime = new Date(Math.floor((Date.now() - 24 * 3600 * 1000) / 1000) * 1000);
    http.set({ '/foo': { etag: etag(), content: 'content1' }, '/': { etag: etag(), lastModified: modTime, content: 'content2' } });
    const files = { Dockerfile: `\nFROM scratch\nADD ${http.url}/foo /dest/\n` };
    const res = await build({ files });
    ok(res);
    expect(await res.read('dest/foo')).toBe('content1');
    // run again to test HEAD request
    ok(await build({ dir: res.dir, output: 'none' }));
    // test the default properties
    const res2 = await build({ files: { Dockerfile: `\nFROM scratch\nADD ${http.url}/ /dest/\n` } });
    ok(res2);
    const dest = join(res2.out, 'dest/__unnamed__');
    expect(await readFile(dest, 'utf8')).toBe('content2');
    expect((await stat(dest)).mtime.toUTCString()).toBe(modTime.toUTCString());
    const requests = http.requests('/foo');
    expect(requests.map((r) => r.method)).toEqual(['GET', 'HEAD']);
    // BuildKit checks its own name and version in User-Agent ("buildkit/v"): here, tbuild's.
    for (const r of requests) expect(r.headers['user-agent']).toContain('tbuild/');
  });

  // dockerfile_add_test.go testDockerfileAddArchive
  port('testDockerfileAddArchive', async () => {
    const plain = await makeTar([{ name: 'foo', content: 'content0', mode: 0o644 }]);
    const gz = await makeTar([{ name: 'foo', content: 'content0', mode: 0o644 }], { gzip: true });
    let res = await build({ files: { Dockerfile: '\nFROM scratch\nADD t.tar /\n', 't.tar': file(plain) } });
    ok(res);
    expect(await res.read('foo')).toBe('content0');
    // add gzip tar
    res = await build({ files: { Dockerfile: '\nFROM scratch\nADD t.tar.gz /\n', 't.tar.gz': file(gz) } });
    ok(res);
    expect(await res.read('foo')).toBe('content0');
    // add with unpack=false
    res = await build({ files: { Dockerfile: '\n\tFROM scratch\n\tADD --unpack=false t.tar.gz /\n\t', 't.tar.gz': file(gz) } });
    ok(res);
    await expect(stat(join(res.out, 'foo'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(res.out, 't.tar.gz'))).toEqual(gz);
    // COPY doesn't extract
    res = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY t.tar.gz /\n', 't.tar.gz': file(gz) } });
    ok(res);
    expect(await readFile(join(res.out, 't.tar.gz'))).toEqual(gz);
    // ADD from URL doesn't extract
    http.set({ '/t.tar.gz': { etag: etag(), content: gz } });
    res = await build({ files: { Dockerfile: `\nFROM scratch\nADD ${http.url}/t.tar.gz /\n` } });
    ok(res);
    expect(await readFile(join(res.out, 't.tar.gz'))).toEqual(gz);
    // ADD from URL with --unpack=true
    res = await build({ files: { Dockerfile: `\nFROM scratch\nADD --unpack=true ${http.url}/t.tar.gz /dest/\n` } });
    ok(res);
    expect(await res.read('dest/foo')).toBe('content0');
    // https://github.com/moby/buildkit/issues/386
    res = await build({ files: { Dockerfile: `\nFROM scratch\nADD ${http.url}/t.tar.gz /newname.tar.gz\n` } });
    ok(res);
    expect(await readFile(join(res.out, 'newname.tar.gz'))).toEqual(gz);
  });

  // dockerfile_add_test.go testDockerfileAddArchiveWithImpliedParentDir
  port('testDockerfileAddArchiveWithImpliedParentDir', async () => {
    const gz = await makeTar(
      [
        { name: 'etc/dnf/', type: 'directory', mode: 0o755 },
        { name: 'etc/dnf/dnf.conf', content: 'content0', mode: 0o644 },
      ],
      { gzip: true },
    );
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nADD t.tar.gz /\n', 't.tar.gz': file(gz) } });
    ok(res);
    expect(await res.read('etc/dnf/dnf.conf')).toBe('content0');
  });

  // dockerfile_add_test.go testDockerfileAddArchiveThroughAbsoluteSymlink
  port('testDockerfileAddArchiveThroughAbsoluteSymlink', async () => {
    const rootfs = await makeTar([
      { name: 'run/', type: 'directory', mode: 0o755 },
      { name: 'var/', type: 'directory', mode: 0o755 },
      { name: 'var/run', type: 'symlink', linkname: '/run', mode: 0o777 },
    ]);
    const payload = await makeTar([
      { name: 'var/run/act/', type: 'directory', mode: 0o755 },
      { name: 'var/run/act/actions/', type: 'directory', mode: 0o755 },
      { name: 'var/run/act/actions/broad/', type: 'directory', mode: 0o755 },
      { name: 'var/run/act/actions/broad/.git/', type: 'directory', mode: 0o755 },
      { name: 'var/run/act/actions/broad/.git/HEAD', content: 'ref: refs/heads/main\n', mode: 0o644 },
      { name: 'var/run/act/actions/broad/.git/HEAD.link', type: 'link', linkname: 'var/run/act/actions/broad/.git/HEAD', mode: 0o644 },
    ]);
    const res = await build({
      files: { Dockerfile: '\nFROM scratch\nADD rootfs.tar /\nADD payload.tar /\n', 'rootfs.tar': file(rootfs), 'payload.tar': file(payload) },
    });
    ok(res);
    expect(await res.read('run/act/actions/broad/.git/HEAD')).toBe('ref: refs/heads/main\n');
    expect(await res.read('run/act/actions/broad/.git/HEAD.link')).toBe('ref: refs/heads/main\n');
    const a = await stat(join(res.out, 'run/act/actions/broad/.git/HEAD'));
    const b = await stat(join(res.out, 'run/act/actions/broad/.git/HEAD.link'));
    expect([a.dev, a.ino]).toEqual([b.dev, b.ino]);
  });

  // dockerfile_add_test.go testDockerfileAddChownArchive (BuildKit exports a tar and reads its headers)
  port('testDockerfileAddChownArchive', async () => {
    const t = await makeTar([{ name: 'foo', content: 'content0', mode: 0o644 }]);
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nADD --chown=100:200 t.tar /out/\n', 't.tar': file(t) }, output: 'none' });
    const tarOut = `${res.out}.tar`;
    ok(await build({ dir: res.dir, output: 'none', args: ['--output', `type=tar,dest=${tarOut}`] }));
    const m = await readTarToMap(tarOut);
    const foo = m.get('out/foo');
    expect(foo?.data.toString()).toBe('content0');
    expect([foo?.header.uid, foo?.header.gid]).toEqual([100, 200]);
    const out = m.get('out/');
    expect([out?.header.uid, out?.header.gid]).toEqual([100, 200]);
  });

  // dockerfile_add_test.go testDockerfileAddArchiveWildcard
  port('testDockerfileAddArchiveWildcard', async () => {
    const t = await makeTar([{ name: 'foo', content: 'content0', mode: 0o644 }]);
    const b = await makeTar([{ name: 'bar', content: 'content1', mode: 0o644 }]);
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nADD *.tar /dest\n', 't.tar': file(t), 'b.tar': file(b) } });
    ok(res);
    expect(await res.read('dest/foo')).toBe('content0');
    expect(await res.read('dest/bar')).toBe('content1');
  });

  // dockerfile_add_test.go testDockerfileAddChownExpand
  port('testDockerfileAddChownExpand', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox
${BUSYBOX_ACCOUNTS}
ARG group
ENV owner 1000
ADD --chown=\${owner}:\${group} foo /
RUN [ "$(stat -c "%u %G" /foo)" == "1000 nobody" ]
`,
        foo: file('foo-contents'),
      },
      buildArgs: { group: 'nobody' },
      output: 'none',
    });
    ok(res);
  });

  // dockerfile_add_test.go testAddURLChmod
  port('testAddURLChmod', async () => {
    http.set({ '/chmod': { etag: etag(), content: 'content1' } });
    const u = `${http.url}/chmod`;
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS build
ADD --chmod=644 ${u} /tmp/foo1
ADD --chmod=755 ${u} /tmp/foo2
ADD --chmod=0413 ${u} /tmp/foo3
ARG mode
ADD --chmod=\${mode} ${u} /tmp/foo4
RUN stat -c "%04a" /tmp/foo1 >> /dest && \\
	stat -c "%04a" /tmp/foo2 >> /dest && \\
	stat -c "%04a" /tmp/foo3 >> /dest && \\
	stat -c "%04a" /tmp/foo4 >> /dest
FROM scratch
COPY --from=build /dest /dest
`,
      },
      buildArgs: { mode: '400' },
    });
    ok(res);
    expect(await res.read('dest')).toBe('0644\n0755\n0413\n0400\n');
  });

  // dockerfile_add_test.go testAddInvalidChmod
  port('testAddInvalidChmod', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nADD --chmod=64a foo /\n', foo: file('foo-contents') }, output: 'none' });
    fails(res, "invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777");
    const res2 = await build({ files: { Dockerfile: '\nFROM scratch\nADD --chmod=10000 foo /\n', foo: file('foo-contents') }, output: 'none' });
    fails(res2, "invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777");
  });

  // dockerfile_add_test.go testAddChecksum (its subtests; BuildKit requires only an error for the failing ones)
  const checksumCases: [string, (u: string) => string, boolean][] = [
    ['Valid', (u) => `\nFROM scratch\nADD --checksum=${sha256('content1')} ${u} /tmp/foo\n`, true],
    ['DigestFromEnv', (u) => `\nFROM scratch\nENV DIGEST=${sha256('content1')}\nENV LINK=${u}\nADD --checksum=\${DIGEST} \${LINK} /tmp/foo\n`, true],
    ['DigestMismatch', (u) => `\nFROM scratch\nADD --checksum=${sha256('')} ${u} /tmp/foo\n`, false],
    ['DigestWithKnownButUnsupportedAlgoName', (u) => `\nFROM scratch\nADD --checksum=md5:7e55db001d319a94b0b713529a756623 ${u} /tmp/foo\n`, false],
    ['DigestWithUnknownAlgoName', (u) => `\nFROM scratch\nADD --checksum=unknown:${sha256('content1').slice(7)} ${u} /tmp/foo\n`, false],
    ['DigestWithoutAlgoName', (u) => `\nFROM scratch\nADD --checksum=${sha256('content1').slice(7)} ${u} /tmp/foo\n`, false],
  ];
  for (const [name, dockerfile, valid] of checksumCases) {
    port('testAddChecksum', async () => {
      http.set({ '/sum': { etag: etag(), content: 'content1' } });
      const res = await build({ files: { Dockerfile: dockerfile(`${http.url}/sum`) }, output: 'none' });
      if (valid) ok(res);
      else expect(res.code).not.toBe(0);
    }, name);
  }
  port('testAddChecksum', async () => {
    const res = await build({ files: { Dockerfile: `\nFROM scratch\nADD --checksum=${sha256('local file')} foo /tmp/foo\n`, foo: file('local file') }, output: 'none' });
    expect(res.code).not.toBe(0);
  }, 'NonHTTPSource');
});
