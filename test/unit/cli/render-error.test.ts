import { describe, expect, it } from 'vitest';
import { RegistryError, SolveError } from '../../../base/errors.js';
import { renderError } from '../../../cli/render-error.js';

describe('renderError', () => {
  it("shows the nearest cause's hint when the step that failed has none of its own", () => {
    const cause = new RegistryError('Cannot check image "x": the registry no longer has this tag', { code: 'REGISTRY_NOT_FOUND', hint: 'use x@sha256:1' });
    const err = new SolveError('[1/2] FROM x: Cannot check image "x": the registry no longer has this tag', { vertexName: 'FROM x', vertexDigest: 'sha256:0', cause });
    expect(renderError(err, { debug: false })).toMatch(/\nhint: use x@sha256:1\n$/);
    const own = new RegistryError('Cannot pull', { hint: 'log in', cause: new RegistryError('denied', { hint: 'other' }) });
    expect(renderError(own, { debug: false })).toMatch(/\nhint: log in\n$/);
  });
});
