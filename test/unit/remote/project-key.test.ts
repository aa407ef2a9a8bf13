import { describe, expect, it } from 'vitest';
import { routingKeyOf } from '../../../cli/builder-select.js';
import { projectKey } from '../../../remote/client-state.js';
import { projectKeyOf } from '../../../remote/project-key.js';

const START = { projectKey: '', contextKey: 'c'.repeat(64), contextSource: undefined, dockerfileName: 'Dockerfile', target: '' };

describe('the project key of a build on a server', () => {
  it("is the hash of the client's routing identity, the same for the same project and apart for another Dockerfile or target", () => {
    const key = (dockerfile: string, target?: string): string => projectKey(routingKeyOf({ context: { kind: 'folder', dir: '/src/app' }, dockerfile: { kind: 'path', path: dockerfile } }, target));
    const app = key('/src/app/Dockerfile');
    expect(app).toMatch(/^[0-9a-f]{64}$/);
    expect(key('/src/app/Dockerfile')).toBe(app);
    expect(key('/src/app/api/Dockerfile')).not.toBe(app);
    expect(key('/src/app/Dockerfile', 'test')).not.toBe(app);
    expect(projectKeyOf({ ...START, projectKey: app })).toBe(app);
  });

  it('tells piped builds apart by their Dockerfile, which has no place to be known by', () => {
    const piped = routingKeyOf({ context: { kind: 'stdin' }, dockerfile: { kind: 'in-context', path: null } }, undefined);
    const one = projectKey(piped, Buffer.from('FROM busybox\nRUN echo one\n'));
    expect(projectKey(piped, Buffer.from('FROM busybox\nRUN echo one\n'))).toBe(one);
    expect(projectKey(piped, Buffer.from('FROM busybox\nRUN echo two\n'))).not.toBe(one);
    expect(projectKey(piped)).not.toBe(one);
  });

  it('refuses a key that is not a sha256, and makes one of what the server sees for a client that sends none', () => {
    expect(() => projectKeyOf({ ...START, projectKey: '../x' })).toThrow('Cannot use project key "../x": expected 64 hex digits');
    const derived = projectKeyOf(START);
    expect(derived).toMatch(/^[0-9a-f]{64}$/);
    expect(projectKeyOf({ ...START, target: 'test' })).not.toBe(derived);
    expect(projectKeyOf({ ...START, dockerfileName: 'api.Dockerfile' })).not.toBe(derived);
    // A context fetched from a URL is known by it, not by the client's temporary folder.
    const url = { type: 'git', url: 'https://example.com/app.git', pin: 'abc' };
    expect(projectKeyOf({ ...START, contextSource: url })).toBe(projectKeyOf({ ...START, contextKey: 'd'.repeat(64), contextSource: url }));
  });
});
