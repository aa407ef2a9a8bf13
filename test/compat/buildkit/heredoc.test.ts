// Ported from moby/buildkit frontend/dockerfile/dockerfile_heredoc_test.go: each case names its test function.
import { describe, expect } from 'vitest';
import { adduser, buildkitSuite, ok, type BuildResult } from './harness.js';

// Marked step: BuildKit's busybox has awk at /bin/awk; the fixture's busybox has it at /usr/bin/awk only.
const BIN_AWK = 'RUN ln -s /bin/busybox /bin/awk # tbuild-port: fixture has only /usr/bin/awk';

async function expectFiles(res: BuildResult, contents: Record<string, string>): Promise<void> {
  ok(res);
  for (const [name, content] of Object.entries(contents)) expect(await res.read(name), name).toBe(content);
}

describe('BuildKit dockerfile_heredoc_test.go', () => {
  const { build, env, port } = buildkitSuite('dockerfile_heredoc_test.go');

  // dockerfile_heredoc_test.go testCopyHeredoc
  port('testCopyHeredoc', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS build
${adduser('user', 1001)}
WORKDIR /dest
COPY <<EOF single
single file
EOF
COPY <<EOF <<EOF2 double/
first file
EOF
second file
EOF2
RUN mkdir -p /permfiles
COPY --chmod=777 <<EOF /permfiles/all
dummy content
EOF
COPY --chmod=0644 <<EOF /permfiles/rw
dummy content
EOF
COPY --chown=user:user <<EOF /permfiles/owned
dummy content
EOF
RUN stat -c "%04a" /permfiles/all >> perms && \\
	stat -c "%04a" /permfiles/rw >> perms && \\
	stat -c "%U:%G" /permfiles/owned >> perms
FROM scratch
COPY --from=build /dest /
`,
      },
    });
    await expectFiles(res, { single: 'single file\n', 'double/EOF': 'first file\n', 'double/EOF2': 'second file\n', perms: '0777\n0644\nuser:user\n' });
  });

  // dockerfile_heredoc_test.go testCopyHeredocSpecialSymbols
  port('testCopyHeredocSpecialSymbols', async () => {
    const res = await build({
      files: {
        Dockerfile: String.raw`
FROM scratch
COPY <<EOF quotefile
"quotes in file"
EOF
COPY <<EOF slashfile1
\
EOF
COPY <<EOF slashfile2
\\
EOF
COPY <<EOF slashfile3
\$
EOF
COPY <<"EOF" rawslashfile1
\
EOF
COPY <<"EOF" rawslashfile2
\\
EOF
COPY <<"EOF" rawslashfile3
\$
EOF
`,
      },
    });
    await expectFiles(res, {
      quotefile: '"quotes in file"\n',
      slashfile1: '\n',
      slashfile2: '\\\n',
      slashfile3: '$\n',
      rawslashfile1: '\\\n',
      rawslashfile2: '\\\\\n',
      rawslashfile3: '\\$\n',
    });
  });

  // dockerfile_heredoc_test.go testRunBasicHeredoc
  port('testRunBasicHeredoc', async () => {
    const res = await build({
      files: { Dockerfile: '\nFROM busybox AS build\nRUN <<EOF\necho "i am" >> /dest\nwhoami >> /dest\nEOF\nFROM scratch\nCOPY --from=build /dest /dest\n' },
    });
    await expectFiles(res, { dest: 'i am\nroot\n' });
  });

  // dockerfile_heredoc_test.go testRunFakeHeredoc
  port('testRunFakeHeredoc', async () => {
    const res = await build({
      files: {
        Dockerfile: `\nFROM busybox AS build\n${BIN_AWK}\nSHELL ["/bin/awk"]\nRUN <<EOF\nBEGIN {\n\tprint "foo" > "/dest"\n}\nEOF\n\nFROM scratch\nCOPY --from=build /dest /dest\n`,
      },
    });
    await expectFiles(res, { dest: 'foo\n' });
  });

  // dockerfile_heredoc_test.go testRunShebangHeredoc
  port('testRunShebangHeredoc', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS build
${BIN_AWK}

WORKDIR /dest

RUN <<EOF
#!/bin/awk -f
BEGIN {
	print "hello" >> "./out1"
	print "world" >> "./out1"
}
EOF

RUN <<-EOF
	#!/bin/awk -f
	BEGIN {
		print "hello" >> "./out2"
		print "world" >> "./out2"
	}
EOF

FROM scratch
COPY --from=build /dest /
`,
      },
    });
    await expectFiles(res, { out1: 'hello\nworld\n', out2: 'hello\nworld\n' });
  });

  // dockerfile_heredoc_test.go testRunComplexHeredoc
  port('testRunComplexHeredoc', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS build

WORKDIR /dest

RUN cat <<EOF1 | tr '[:upper:]' '[:lower:]' > ./out1; \\
	cat <<EOF2 | tr '[:lower:]' '[:upper:]' > ./out2
hello WORLD
EOF1
HELLO world
EOF2

RUN <<EOF 3<<IN1 4<<IN2 awk -f -
BEGIN {
	while ((getline line < "/proc/self/fd/3") > 0)
		print tolower(line) > "./fd3"
	while ((getline line < "/proc/self/fd/4") > 0)
		print toupper(line) > "./fd4"
}
EOF
hello WORLD
IN1
HELLO world
IN2

FROM scratch
COPY --from=build /dest /
`,
      },
    });
    await expectFiles(res, { out1: 'hello world\n', out2: 'HELLO WORLD\n', fd3: 'hello world\n', fd4: 'HELLO WORLD\n' });
  });

  // dockerfile_heredoc_test.go testHeredocIndent
  port('testHeredocIndent', async () => {
    const res = await build({
      files: {
        Dockerfile: `
FROM busybox AS build
COPY <<EOF /dest/foo-copy
\tfoo
EOF
COPY <<-EOF /dest/bar-copy
\tbar
EOF
RUN <<EOF
echo "
\tfoo" > /dest/foo-run
EOF
RUN <<-EOF
echo "
\tbar" > /dest/bar-run
EOF
RUN <<EOF
#!/bin/sh
echo "
\tfoo" > /dest/foo2-run
EOF
RUN <<-EOF
#!/bin/sh
echo "
\tbar" > /dest/bar2-run
EOF
RUN <<EOF sh > /dest/foo3-run
echo "
\tfoo"
EOF
RUN <<-EOF sh > /dest/bar3-run
echo "
\tbar"
EOF
FROM scratch
COPY --from=build /dest /
`,
      },
    });
    await expectFiles(res, {
      'foo-copy': '\tfoo\n',
      'foo-run': '\n\tfoo\n',
      'foo2-run': '\n\tfoo\n',
      'foo3-run': '\n\tfoo\n',
      'bar-copy': 'bar\n',
      'bar-run': '\nbar\n',
      'bar2-run': '\nbar\n',
      'bar3-run': '\nbar\n',
    });
  });

  // dockerfile_heredoc_test.go testHeredocVarSubstitution
  port('testHeredocVarSubstitution', async () => {
    const res = await build({
      files: {
        Dockerfile: String.raw`
FROM busybox as build
ARG name=world
COPY <<EOF /dest/c1
Hello ${'$'}{name}!
EOF
COPY <<'EOF' /dest/c2
Hello ${'$'}{name}!
EOF
COPY <<"EOF" /dest/c3
Hello ${'$'}{name}!
EOF
COPY <<EOF /dest/q1
Hello '${'$'}{name}'!
EOF
COPY <<EOF /dest/q2
Hello "${'$'}{name}"!
EOF
COPY <<'EOF' /dest/qsingle1
Hello '${'$'}{name}'!
EOF
COPY <<'EOF' /dest/qsingle2
Hello "${'$'}{name}"!
EOF
COPY <<"EOF" /dest/qdouble1
Hello '${'$'}{name}'!
EOF
COPY <<"EOF" /dest/qdouble2
Hello "${'$'}{name}"!
EOF
RUN <<EOF
greeting="Hello"
echo "${'$'}{greeting} ${'$'}{name}!" > /dest/r1
EOF
RUN <<EOF
name="new world"
echo "Hello ${'$'}{name}!" > /dest/r2
EOF
FROM scratch
COPY --from=build /dest /
`,
      },
    });
    await expectFiles(res, {
      c1: 'Hello world!\n',
      c2: 'Hello ${name}!\n',
      c3: 'Hello ${name}!\n',
      q1: "Hello 'world'!\n",
      q2: 'Hello "world"!\n',
      qsingle1: "Hello '${name}'!\n",
      qsingle2: 'Hello "${name}"!\n',
      qdouble1: "Hello '${name}'!\n",
      qdouble2: 'Hello "${name}"!\n',
      r1: 'Hello world!\n',
      r2: 'Hello new world!\n',
    });
  });

  // dockerfile_heredoc_test.go testOnBuildHeredoc (the base image is pushed to the loopback registry)
  port('testOnBuildHeredoc', async () => {
    const target = `${env.registry.host}/buildkit/testonbuildheredoc:base`;
    ok(
      await build({
        files: { Dockerfile: '\nFROM busybox\nONBUILD RUN <<EOF\necho "hello world" >> /dest\nEOF\n' },
        output: 'none',
        args: ['--output', `type=registry,name=${target}`],
      }),
    );
    const res = await build({ files: { Dockerfile: `\n\tFROM ${target} AS base\n\tFROM scratch\n\tCOPY --from=base /dest /dest\n\t` } });
    await expectFiles(res, { dest: 'hello world\n' });
  });
});
