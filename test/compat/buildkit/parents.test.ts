// Ported from moby/buildkit frontend/dockerfile/dockerfile_parents_test.go: each case names its test function.
// BuildKit's stages start FROM alpine and only run sh: busybox here.
import { describe, expect } from 'vitest';
import { buildkitSuite, dir, file, ok } from './harness.js';

const RELATIVE_PARENTS = `
FROM busybox AS base
WORKDIR /test
RUN <<eot
	set -ex
	mkdir -p a/b/c/d/e
	mkdir -p a/b2/c/d/e
	mkdir -p a/b/c2/d/e
	mkdir -p a/b/c2/d/e2
	touch a/b/c/d/foo
	touch a/b/c/d/e/bay
	touch a/b2/c/d/e/bar
	touch a/b/c2/d/e/baz
	touch a/b/c2/d/e2/baz
eot

FROM busybox AS middle
COPY --from=base --parents /test/a/b/./c/d /out/
RUN <<eot
	set -ex
	[ -d /out/c/d/e ]
	[ -f /out/c/d/foo ]
	[ ! -d /out/a ]
	[ ! -d /out/e ]
eot

FROM busybox AS end
COPY --from=base --parents /test/a/b/c/d/. /out/
RUN <<eot
	set -ex
	[ -d /out/test/a/b/c/d/e ]
	[ -f /out/test/a/b/c/d/foo ]
eot

FROM busybox AS start
COPY --from=base --parents ./test/a/b/c/d /out/
RUN <<eot
	set -ex
	[ -d /out/test/a/b/c/d/e ]
	[ -f /out/test/a/b/c/d/foo ]
eot

FROM busybox AS double
COPY --from=base --parents /test/a/./b/./c /out/
RUN <<eot
	set -ex
	[ -d /out/b/c/d/e ]
	[ -f /out/b/c/d/foo ]
eot

FROM busybox AS wildcard
COPY --from=base --parents /test/a/./*/c /out/
RUN <<eot
	set -ex
	[ -d /out/b/c/d/e ]
	[ -f /out/b2/c/d/e/bar ]
eot

FROM busybox AS doublewildcard
COPY --from=base --parents /test/a/b*/./c/**/e /out/
RUN <<eot
	set -ex
	[ -d /out/c/d/e ]
	[ -f /out/c/d/e/bay ] # via b
	[ -f /out/c/d/e/bar ] # via b2
eot

FROM busybox AS doubleinputs
COPY --from=base --parents /test/a/b/c*/./d/**/baz /test/a/b*/./c/**/bar /out/
RUN <<eot
	set -ex
	[ -f /out/d/e/baz ]
	[ ! -f /out/d/e/bay ]
	[ -f /out/d/e2/baz ]
	[ -f /out/c/d/e/bar ] # via b2
eot
`;

const PARENTS_MISSING_DIRECTORY = `
FROM busybox AS base
WORKDIR /test
RUN <<eot
	set -ex
	mkdir -p a/b/c/d/e
	touch a/b/c/d/foo
	touch a/b/c/d/e/bay
eot

FROM busybox AS normal
COPY --from=base --parents /test/a/b/c/d /out/
RUN <<eot
	set -ex
	[ -d /out/test/a/b/c/d/e ]
	[ -f /out/test/a/b/c/d/e/bay ]
	[ ! -d /out/e ]
	[ ! -d /out/a ]
eot

FROM busybox AS withpivot
COPY --from=base --parents /test/a/b/./c/d /out/
RUN <<eot
	set -ex
	[ -d /out/c/d/e ]
	[ -f /out/c/d/foo ]
	[ ! -d /out/a ]
	[ ! -d /out/e ]
eot

FROM busybox AS nonexistentfile
COPY --from=base --parents /test/nonexistent-file /out/

FROM busybox AS wildcard-nonexistent
COPY --from=base --parents /test/a/b2*/c /out/
RUN <<eot
	set -ex
	[ -d /out ]
	[ ! -d /out/a ]
eot

FROM busybox AS wildcard-afterpivot
COPY --from=base --parents /test/a/b/./c2* /out/
RUN <<eot
	set -ex
	[ -d /out ]
	[ ! -d /out/a ]
	[ ! -d /out/c* ]
eot
`;

describe('BuildKit dockerfile_parents_test.go', () => {
  const { build, context, port } = buildkitSuite('dockerfile_parents_test.go');

  // dockerfile_parents_test.go testCopyParents
  port('testCopyParents', async () => {
    const res = await build({
      files: {
        Dockerfile: '\nFROM scratch\nCOPY --parents foo1/foo2/bar /\nWORKDIR /test\nCOPY --parents foo1/foo2/ba* .\n',
        foo1: dir(0o700),
        'foo1/foo2': dir(0o700),
        'foo1/foo2/bar': file('testing'),
        'foo1/foo2/baz': file('testing2'),
      },
    });
    ok(res);
    expect(await res.read('foo1/foo2/bar')).toBe('testing');
    expect(await res.read('test/foo1/foo2/bar')).toBe('testing');
    expect(await res.read('test/foo1/foo2/baz')).toBe('testing2');
  });

  // dockerfile_parents_test.go testCopyRelativeParents: one build per target, as BuildKit's loop
  for (const target of ['middle', 'end', 'start', 'double', 'wildcard', 'doublewildcard', 'doubleinputs']) {
    port('testCopyRelativeParents', async () => {
      const d = await context({ Dockerfile: RELATIVE_PARENTS });
      ok(await build({ dir: d, target, output: 'none' }));
    }, target);
  }

  // dockerfile_parents_test.go testCopyParentsMissingDirectory: one build per target, as BuildKit's loop
  const missing: [string, RegExp | undefined][] = [
    ['normal', undefined],
    ['withpivot', undefined],
    ['nonexistentfile', /failed to calculate checksum of ref.*: "\/test\/nonexistent-file": not found/],
    ['wildcard-nonexistent', undefined],
    ['wildcard-afterpivot', undefined],
  ];
  for (const [target, errorRegex] of missing) {
    port('testCopyParentsMissingDirectory', async () => {
      const d = await context({ Dockerfile: PARENTS_MISSING_DIRECTORY });
      const res = await build({ dir: d, target, output: 'none' });
      if (errorRegex === undefined) ok(res);
      else {
        expect(res.code).not.toBe(0);
        expect(res.stderr).toMatch(errorRegex);
      }
    }, target);
  }
});
