import { describe, expect, it } from 'vitest';
import { InternalError } from '../../../base/errors.js';
import type { ProgressEvent } from '../../../base/progress.js';
import { parseProgressEvent } from '../../../remote/progress-codec.js';

describe('progress events from a builder', () => {
  it('carries a check finding with its warning, and refuses a malformed one', () => {
    const event: ProgressEvent = {
      type: 'warning',
      message: "FromAsCasing: 'as' and 'FROM' keywords' casing do not match",
      location: 'Dockerfile:2',
      finding: {
        rule: 'FromAsCasing',
        description: "The 'as' keyword should match the case of the 'from' keyword",
        url: 'https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
        detail: "'as' and 'FROM' keywords' casing do not match",
        location: { file: 'Dockerfile', startLine: 2, endLine: 2 },
      },
      time: 1,
    };
    expect(parseProgressEvent(JSON.stringify(event))).toEqual(event);
    expect(() => parseProgressEvent(JSON.stringify({ ...event, finding: { rule: 'FromAsCasing', detail: 'x' } }))).toThrow(InternalError);
    expect(() => parseProgressEvent(JSON.stringify({ ...event, finding: { ...event.finding, location: { file: 'Dockerfile' } } }))).toThrow(InternalError);
  });

  it('carries why a step ran (build --explain), and refuses reasons that are not text', () => {
    const event: ProgressEvent = { type: 'vertex.explain', vertex: 'sha256:aa', comparedWith: 'f7116b415c614af8', reasons: ['build arg `V` 1 → 2'], time: 1 };
    expect(parseProgressEvent(JSON.stringify(event))).toEqual(event);
    expect(() => parseProgressEvent(JSON.stringify({ ...event, reasons: [1] }))).toThrow(InternalError);
    expect(() => parseProgressEvent(JSON.stringify({ ...event, reasons: 'x' }))).toThrow(InternalError);
  });
});
