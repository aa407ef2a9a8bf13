// Ported from moby/buildkit frontend/dockerfile/dockerfile_history_test.go: each case names its test function.
import { describe, expect } from 'vitest';
import type { OtlpTraces } from '../../../cli/history-trace.js';
import { buildkitSuite, file, ok } from './harness.js';

describe('BuildKit dockerfile_history_test.go', () => {
  const suite = buildkitSuite('dockerfile_history_test.go');
  const { build, port } = suite;

  // dockerfile_history_test.go testExportedHistory
  port('testExportedHistory', async () => {
    // using multi-stage to test that history is scoped to one stage
    const res = await build({
      files: {
        Dockerfile:
          '\nFROM busybox AS base\nENV foo=bar\nCOPY foo /foo2\nFROM busybox\nLABEL lbl=val\nCOPY --from=base foo2 foo3\nWORKDIR /\nRUN echo bar > foo4\nRUN ["ls"]\nEXPOSE 2375 5000 1234/udp\n',
        foo: file('contents0'),
      },
      output: 'oci',
    });
    ok(res);
    const img = await res.image();
    expect(img.rootfs.diff_ids).toHaveLength(4);
    const history = img.history ?? [];
    expect(history).toHaveLength(8);
    const steps: [string, boolean][] = [
      ['lbl=val', true],
      ['COPY foo2 foo3', false],
      ['WORKDIR /', true],
      ['echo bar > foo4', false],
      ['RUN ls', false],
      ['EXPOSE [1234/udp 2375/tcp 5000/tcp]', true],
    ];
    steps.forEach(([text, empty], i) => {
      const h = history[2 + i];
      expect(h?.created_by, text).toContain(text);
      expect(h?.empty_layer ?? false, text).toBe(empty);
      expect((h as { created?: string } | undefined)?.created, text).toBeDefined();
    });
  });

  // dockerfile_history_test.go testExportedHistoryFlattenArgs (BuildKit pushes the image and reads it back; here it is
  // exported as an OCI archive)
  port('testExportedHistoryFlattenArgs', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM busybox\nARG foo=bar\nARG bar=123\nARG foo=bar2\nRUN ls /etc/\n' }, output: 'oci' });
    ok(res);
    const history = (await res.image()).history ?? [];
    const first = history.findIndex((h) => h.created_by === 'ARG foo=bar');
    expect(first).toBeGreaterThan(0);
    expect(history).toHaveLength(first + 4);
    expect(history[first + 1]?.created_by).toContain('ARG bar=123');
    expect(history[first + 2]?.created_by).toContain('ARG foo=bar2');
    const runLine = history[first + 3]?.created_by ?? '';
    expect(runLine).toContain('ls /etc/');
    expect(runLine).not.toContain('ARG foo=bar');
    expect(runLine).toContain('RUN |2 foo=bar2 bar=123 ');
  });

  // dockerfile_history_test.go testHistoryError: the failed build's record holds its error and where in the Dockerfile
  // it is. BuildKit reads it through its ListenBuildHistory API; tbuild's is `tbuild history inspect --format json`.
  port('testHistoryError', async () => {
    const dockerfile = '\nFROM scratch\nCOPY notexist /foo\n';
    const res = await build({ files: { Dockerfile: dockerfile } });
    expect(res.code).not.toBe(0);
    const inspect = await suite.tbuild(['history', 'inspect', '--format', 'json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    const record = JSON.parse(inspect.stdout) as {
      status: string;
      request: { dockerfileName: string; dockerfileText: string };
      error?: { message: string; location?: { file: string; startLine: number } };
    };
    expect(record.status).toBe('failed');
    expect(record.error?.message).toContain('/notexist');
    // source points to Dockerfile
    expect(record.error?.location).toMatchObject({ file: 'Dockerfile', startLine: 3 });
    expect(record.request.dockerfileName).toBe('Dockerfile');
    expect(record.request.dockerfileText).toBe(dockerfile);
  });

  // dockerfile_history_test.go testHistoryFinalizeTrace: BuildKit finalizes the record through its UpdateBuildHistory
  // API and reads the trace the record then names. tbuild makes the trace from the finished record itself: `tbuild
  // history trace --format otlp` writes it as OpenTelemetry spans (there is no separate finalizing step).
  port('testHistoryFinalizeTrace', async () => {
    const res = await build({ files: { Dockerfile: '\nFROM scratch\nCOPY Dockerfile /foo\n' } });
    ok(res);
    const out = await suite.tbuild(['history', 'trace', '--format', 'otlp']);
    expect(out.code, out.stderr).toBe(0);
    const trace = JSON.parse(out.stdout) as OtlpTraces;
    const spans = trace.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans).not.toHaveLength(0);
    // The trace's identity (BuildKit: its blob's digest) is set.
    expect(spans[0]?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(spans.some((s) => s.name.includes('COPY Dockerfile /foo'))).toBe(true);
  });
});

