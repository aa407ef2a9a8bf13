// Ported from moby/buildkit frontend/dockerfile/dockerfile_args_test.go: each case names its test function.
import { describe, expect } from 'vitest';
import { buildkitSuite, fails, file, ok } from './harness.js';

describe('BuildKit dockerfile_args_test.go', () => {
  const { build, context, port, succeeds } = buildkitSuite('dockerfile_args_test.go');

  // dockerfile_args_test.go testGlobalArg
  port('testGlobalArg', async () => {
    await succeeds({ Dockerfile: '\nARG tag=nosuchtag\nFROM busybox:${tag}\n' }, { buildArgs: { tag: 'latest' } });
  });

  // dockerfile_args_test.go testGlobalArgErrors
  port('testGlobalArgErrors', async () => {
    const d = await context({ Dockerfile: '\nARG FOO=${FOO:?"custom error"}\nFROM busybox\n' });
    fails(await build({ dir: d, output: 'none' }), 'FOO: custom error');
    ok(await build({ dir: d, output: 'none', buildArgs: { FOO: 'bar' } }));
  });

  // dockerfile_args_test.go testArgDefaultExpansion
  port('testArgDefaultExpansion', async () => {
    const d = await context({ Dockerfile: '\nFROM scratch\nARG FOO\nARG BAR=${FOO:?"foo missing"}\n' });
    fails(await build({ dir: d, output: 'none' }), 'FOO: foo missing');
    ok(await build({ dir: d, output: 'none', buildArgs: { FOO: '123' } }));
    ok(await build({ dir: d, output: 'none', buildArgs: { BAR: '123' } }));
  });

  // dockerfile_args_test.go testMultiArgs
  port('testMultiArgs', async () => {
    const res = await build({
      files: {
        Dockerfile:
          '\nARG a1="foo bar" a2=box\nARG a3="$a2-foo"\nFROM busy$a2 AS build\nARG a3 a4="123 456" a1\nRUN echo -n "$a1:$a3:$a4" > /out\nFROM scratch\nCOPY --from=build /out .\n',
      },
    });
    ok(res);
    expect(await res.read('out')).toBe('foo bar:box-foo:123 456');
  });

  // dockerfile_args_test.go testQuotedMetaArgs
  port('testQuotedMetaArgs', async () => {
    const res = await build({
      files: {
        Dockerfile: '\nARG a1="box"\nARG a2="$a1-foo"\nFROM busy$a1 AS build\nARG a2\nARG a3="bar-$a2"\nRUN echo -n $a3 > /out\nFROM scratch\nCOPY --from=build /out .\n',
      },
    });
    ok(res);
    expect(await res.read('out')).toBe('bar-box-foo');
  });

  // dockerfile_args_test.go testTargetStageNameArg (alpine there; busybox here: only sh runs)
  port('testTargetStageNameArg', async () => {
    const dockerfile = `
FROM busybox AS base
WORKDIR /out
RUN echo -n "value:$TARGETSTAGE" > /out/first
ARG TARGETSTAGE
RUN echo -n "value:$TARGETSTAGE" > /out/second
FROM scratch AS foo
COPY --from=base /out/ /
FROM scratch
COPY --from=base /out/ /
`;
    const d = await context({ Dockerfile: dockerfile });
    let res = await build({ dir: d, target: 'foo' });
    ok(res);
    expect(await res.read('first')).toBe('value:');
    expect(await res.read('second')).toBe('value:foo');
    res = await build({ dir: d });
    ok(res);
    expect(await res.read('first')).toBe('value:');
    expect(await res.read('second')).toBe('value:default');
    // stage name defined in Dockerfile but not passed in request
    res = await build({ files: { Dockerfile: `${dockerfile}\n\tFROM scratch AS final\n\tCOPY --from=base /out/ /\n\t` } });
    ok(res);
    expect(await res.read('first')).toBe('value:');
    expect(await res.read('second')).toBe('value:final');
  });

  // dockerfile_args_test.go testBuiltinArgs
  port('testBuiltinArgs', async () => {
    const d = await context({
      Dockerfile: '\nFROM busybox AS build\nARG FOO\nARG BAR\nARG BAZ=bazcontent\nRUN echo -n $HTTP_PROXY::$NO_PROXY::$FOO::$BAR::$BAZ > /out\nFROM scratch\nCOPY --from=build /out /\n',
    });
    let res = await build({ dir: d, buildArgs: { FOO: 'foocontents', http_proxy: 'hpvalue', NO_PROXY: 'npvalue' } });
    ok(res);
    expect(await res.read('out')).toBe('hpvalue::npvalue::foocontents::::bazcontent');
    // repeat with changed default args should match the old cache
    res = await build({ dir: d, buildArgs: { FOO: 'foocontents', http_proxy: 'hpvalue2' } });
    ok(res);
    expect(await res.read('out')).toBe('hpvalue::npvalue::foocontents::::bazcontent');
    // changing actual value invalidates cache
    res = await build({ dir: d, buildArgs: { FOO: 'foocontents2', http_proxy: 'hpvalue2' } });
    ok(res);
    expect(await res.read('out')).toBe('hpvalue2::::foocontents2::::bazcontent');
  });

  // dockerfile_args_test.go testDefaultEnvWithArgs
  const defaultEnvCases: [string, Record<string, string>, string][] = [
    ['nil', {}, 'my_arg=def_val my_arg=def_val my_arg=d'],
    ['empty', { my_arg: '' }, 'my_arg=def_val my_arg=def_val my_arg=d'],
    ['override', { my_arg: 'override' }, 'my_arg=override my_arg=override my_arg=ov'],
  ];
  for (const [name, buildArgs, expected] of defaultEnvCases) {
    port('testDefaultEnvWithArgs', async () => {
      const res = await build({
        files: {
          Dockerfile: `
ARG image=idlebox
FROM busy\${image#idle} AS build
ARG my_arg
ENV my_arg "my_arg=\${my_arg:-def_val}"
ENV my_trimmed_arg "\${my_arg%%e*}"
COPY myscript.sh myscript.sh
RUN ./myscript.sh $my_arg $my_trimmed_arg
FROM scratch
COPY --from=build /out /out
`,
          'myscript.sh': file('\n#!/usr/bin/env sh\necho -n $my_arg $* > /out\n', 0o700),
        },
        buildArgs,
      });
      ok(res);
      expect(await res.read('out')).toBe(expected);
    }, name);
  }

  // dockerfile_args_test.go testEmptyStringArgInEnv
  port('testEmptyStringArgInEnv', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM busybox AS build\nARG FOO\nARG BAR=\nRUN env > env.txt\nFROM scratch\nCOPY --from=build env.txt .\n' } });
    ok(res);
    const env = await res.read('env.txt');
    expect(env).toContain('BAR=');
    expect(env).not.toContain('FOO=');
  });

  // dockerfile_args_test.go testEnvEmptyFormatting
  port('testEnvEmptyFormatting', async () => {
    await succeeds({ Dockerfile: "\nFROM busybox AS build\nENV myenv foo%sbar\nRUN [ \"$myenv\" = 'foo%sbar' ]\n" });
  });
});
