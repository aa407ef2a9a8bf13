// Ported from moby/buildkit frontend/dockerfile/dockerfile_core_test.go: each case names its test function.
import { join } from 'node:path';
import tar from 'tar-stream';
import { describe, expect } from 'vitest';
import { runTbuild } from '../../helpers/cli.js';
import { BUSYBOX_ACCOUNTS, buildkitSuite, dir, fails, file, link, ok } from './harness.js';

/** tarWith returns a tar archive holding one symlink entry, as testSymlinkDestination writes with archive/tar. */
async function tarWithSymlink(name: string, target: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, type: 'symlink', linkname: target, mode: 0o755 });
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('BuildKit dockerfile_core_test.go', () => {
  const { build, context, env, port } = buildkitSuite('dockerfile_core_test.go');

  // dockerfile_core_test.go testDockerfileDirs
  port('testDockerfileDirs', async () => {
    const dockerfile = '\nFROM busybox\nCOPY foo /foo2\nCOPY foo /\nRUN echo -n bar > foo3\nRUN test -f foo\nRUN cmp -s foo foo2\nRUN cmp -s foo foo3\n';
    const d = await context({ Dockerfile: file(dockerfile), foo: file('bar') });
    ok(await build({ dir: d, output: 'none' }));
    // relative urls
    ok(await build({ dir: d, output: 'none', cwd: d, contextArg: '.' }));
    // different context and dockerfile directories
    const dir1 = await context({ Dockerfile: file(dockerfile) });
    const dir2 = await context({ foo: file('bar') });
    ok(await build({ dir: dir2, output: 'none', args: ['-f', join(dir1, 'Dockerfile')] }));
  });

  // dockerfile_core_test.go testSymlinkedDockerfile
  port('testSymlinkedDockerfile', async () => {
    ok(await build({ files: { 'Dockerfile.web': '\nFROM scratch\nENV foo bar\n', Dockerfile: link('Dockerfile.web') }, output: 'none' }));
  });

  // dockerfile_core_test.go testSymlinkDestination
  port('testSymlinkDestination', async () => {
    const res = await build({
      files: {
        Dockerfile: '\nFROM scratch\nADD t.tar /\nCOPY foo /symlink/\n',
        foo: file('content0'),
        't.tar': file(await tarWithSymlink('symlink', '../tmp/symlink-target')),
      },
    });
    ok(res);
    expect(await res.read('tmp/symlink-target/foo')).toBe('content0');
  });

  // dockerfile_core_test.go testContextChangeDirToFile
  port('testContextChangeDirToFile', async () => {
    const dockerfile = '\nFROM scratch\nCOPY foo /\n';
    ok(await build({ files: { Dockerfile: dockerfile, foo: dir(0o700), 'foo/bar': file('contents') }, output: 'none' }));
    const res = await build({ files: { Dockerfile: dockerfile, foo: file('contents2') } });
    ok(res);
    expect(await res.read('foo')).toBe('contents2');
  });

  // dockerfile_core_test.go testNoSnapshotLeak: BuildKit compares DiskUsage records; tbuild du lists them.
  port('testNoSnapshotLeak', async () => {
    const d = await context({ Dockerfile: '\nFROM scratch\nCOPY foo /\n', foo: file('contents') });
    const usage = async (): Promise<number> => {
      const du = await runTbuild(['du', '--root', join(env.tmp.path, 'root')]);
      ok(du);
      return du.stdout.split('\n').filter((l) => /^[0-9a-f]{12,}\s/.test(l)).length;
    };
    ok(await build({ dir: d, output: 'none' }));
    const du = await usage();
    ok(await build({ dir: d, output: 'none' }));
    expect(await usage()).toBe(du);
  });

  // dockerfile_core_test.go testExposeExpansion
  port('testExposeExpansion', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nARG PORTS="3000 4000/udp"\nEXPOSE $PORTS\nEXPOSE 5000\n' }, output: 'oci' });
    ok(res);
    const ports = Object.keys((await res.image()).config.ExposedPorts ?? {}).sort();
    expect(ports).toEqual(['3000/tcp', '4000/udp', '5000/tcp']);
  });

  // dockerfile_core_test.go testDockerfileLowercase
  port('testDockerfileLowercase', async () => {
    ok(await build({ files: { dockerfile: '\nFROM scratch\n' }, output: 'none' }));
  });

  // dockerfile_core_test.go testLabels: BuildKit's label:bar frontend attribute is --label bar=baz.
  port('testLabels', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nLABEL foo=bar\n' }, output: 'oci', args: ['--label', 'bar=baz'] });
    ok(res);
    const labels = (await res.image()).config.Labels ?? {};
    expect(labels.foo).toBe('bar');
    expect(labels.bar).toBe('baz');
  });

  // dockerfile_core_test.go testUser
  port('testUser', async () => {
    const id = '"$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)"';
    const d = await context({
      Dockerfile: `
FROM busybox AS base
${BUSYBOX_ACCOUNTS}
RUN mkdir -m 0777 /out
RUN id -un > /out/rootuser
# Make sure our defaults work
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)" = '0:0/root:root' ]
USER root
RUN [ "$(id -G):$(id -Gn)" = '0 10:root wheel' ]
# Setup dockerio user and group
RUN echo 'dockerio:x:1001:1001::/bin:/bin/false' >> /etc/passwd && \\
	echo 'dockerio:x:1001:' >> /etc/group
# Make sure we can switch to our user and all the information is exactly as we expect it to be
USER dockerio
RUN [ ${id} = '1001:1001/dockerio:dockerio/1001:dockerio' ]
# Switch back to root and double check that worked exactly as we might expect it to
USER root
RUN [ ${id} = '0:0/root:root/0 10:root wheel' ] && \\
        # Add a "supplementary" group for our dockerio user
	echo 'supplementary:x:1002:dockerio' >> /etc/group
# ... and then go verify that we get it like we expect
USER dockerio
RUN [ ${id} = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]
USER 1001
RUN [ ${id} = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]
# super test the new "user:group" syntax
USER dockerio:dockerio
RUN [ ${id} = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER 1001:dockerio
RUN [ ${id} = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER dockerio:1001
RUN [ ${id} = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER 1001:1001
RUN [ ${id} = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER dockerio:supplementary
RUN [ ${id} = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER dockerio:1002
RUN [ ${id} = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER 1001:supplementary
RUN [ ${id} = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER 1001:1002
RUN [ ${id} = '1001:1002/dockerio:supplementary/1002:supplementary' ]
# make sure unknown uid/gid still works properly
USER 1042:1043
RUN [ ${id} = '1042:1043/1042:1043/1043:1043' ]
USER daemon
RUN id -un > /out/daemonuser
FROM scratch
COPY --from=base /out /
USER nobody
`,
    });
    const res = await build({ dir: d });
    ok(res);
    expect(await res.read('rootuser')).toBe('root\n');
    expect(await res.read('daemonuser')).toBe('daemon\n');
    const img = await build({ dir: d, output: 'oci' });
    ok(img);
    expect((await img.image()).config.User).toBe('nobody');
  });

  // dockerfile_core_test.go testUserAdditionalGids
  port('testUserAdditionalGids', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox
${BUSYBOX_ACCOUNTS}
SHELL ["/bin/sh", "-euxc"]
RUN [ "$(id)" = "uid=0(root) gid=0(root) groups=0(root),10(wheel)" ]
USER 1234
RUN [ "$(id)" = "uid=1234 gid=0(root) groups=0(root)" ]
USER 1234:1234
RUN [ "$(id)" = "uid=1234 gid=1234 groups=1234" ]
USER daemon
RUN [ "$(id)" = "uid=1(daemon) gid=1(daemon) groups=1(daemon)" ]
`,
      },
      output: 'none',
    });
    ok(res);
  });

  // dockerfile_core_test.go testDockerfileCheckHostname: the "arg" variant (tbuild has no hostname option for the
  // "meta" variants).
  port('testDockerfileCheckHostname', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM busybox\nRUN cat /etc/hosts | grep foo\nRUN echo $HOSTNAME | grep foo\n\tRUN echo $(hostname) | grep foo\n\t' },
      buildArgs: { BUILDKIT_SANDBOX_HOSTNAME: 'foo' },
      output: 'none',
    });
    ok(res);
  }, 'arg');

  // dockerfile_core_test.go testStepNames
  port('testStepNames', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM busybox AS base\nWORKDIR /out\nRUN echo "base" > base\nFROM scratch\nCOPY --from=base --chmod=0644 /out /out\n\t\t' },
      output: 'none',
    });
    ok(res);
    expect(res.stderr).toContain('[base 3/3] RUN echo "base" > base');
    expect(res.stderr).toContain('[stage-1 1/1] COPY --from=base --chmod=0644 /out /out');
  });

  // dockerfile_core_test.go testTargetMistype
  port('testTargetMistype', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM scratch AS build\nCOPY Dockerfile /out\nFROM scratch\nCOPY --from=build /out /\n' },
      target: 'bulid',
      output: 'none',
    });
    fails(res, 'target stage "bulid" could not be found (did you mean build?)');
  });
});
