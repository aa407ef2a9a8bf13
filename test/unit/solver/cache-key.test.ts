import { describe, expect, it } from 'vitest';
import { digestOf } from '../../../base/digest.js';
import type { ExecOp, FileOp, MergeOp, SourceOp } from '../../../solver/graph/index.js';
import { computeRerunKey, computeVertexKey, KEY_VERSION, type SourcePin } from '../../../solver/index.js';

const platform = { os: 'linux', architecture: 'amd64' };
const inputs = [{ key: digestOf('input a') }, { key: digestOf('input b') }];

/** Ops of every kind, with a field of each sort set: the keys below are what tbuild gave them before this module. */
const SAMPLE_EXEC: ExecOp = {
  kind: 'exec',
  meta: { args: ['sh', '-c', 'make'], env: ['A=1'], cwd: '/src', user: 'app', hostname: 'h' },
  mounts: [
    { type: 'bind', input: 0, dest: '/', output: 0, readonly: false },
    { type: 'bind', input: 1, dest: '/m', output: null, readonly: true, selector: '/out' },
    { type: 'cache', dest: '/c', id: 'c', sharing: 'shared', readonly: false, input: null, mode: 0o755, uid: 0, gid: 0 },
  ],
  network: 'default',
  security: 'sandbox',
  platform,
  proxyEnv: { httpProxy: 'http://proxy:3128' },
};

const SAMPLE_FILE: FileOp = {
  kind: 'file',
  base: 0,
  actions: [
    { action: 'copy', input: 1, sources: ['/out/a', 'b/'], dest: '/dst/', excludes: [], extractArchives: false, parents: false, chown: { user: '1' } },
    { action: 'mkdir', path: '/w', mode: 0o755, makeParents: true },
    { action: 'mkfile', path: '/f', mode: 0o644, data: 'hi' },
  ],
  platform,
};

const source = (s: SourceOp['source']): SourceOp => ({ kind: 'source', source: s, platform });
const gitSource = { type: 'git', remote: 'https://example.com/r.git', ref: 'main', subdir: 'sub', keepGitDir: false } as const;
const gitPin: SourcePin = { type: 'git', commit: 'a'.repeat(40) };

describe('cache keys', () => {
  it('keeps every key tbuild gave before the key module: existing stores keep their records', () => {
    const merge: MergeOp = { kind: 'merge', platform };
    const key = (op: Parameters<typeof computeVertexKey>[0], pin?: SourcePin, withInputs = false): string =>
      computeVertexKey(op, { ...(pin === undefined ? {} : { pin }), inputs: withInputs ? inputs : [] }).key;
    expect(key(SAMPLE_EXEC, undefined, true)).toBe('sha256:84cb71b920a6026863982b58ead4f54bdf0511536eafcdedc0f63c1fec104b74');
    expect(key(SAMPLE_FILE, undefined, true)).toBe('sha256:af09e6fc3d2e1465604854be8318bc8aa5909c122772d448e96f2d9ef1dc0892');
    expect(key(merge, undefined, true)).toBe('sha256:caa18c11c2a50f09fc28ff9ede35656d3cca2cc1b4b0f2312dd1aa0a39e3ba51');
    expect(key(source({ type: 'image', ref: 'docker.io/library/busybox:latest' }), { type: 'image', digest: digestOf('manifest') })).toBe(
      'sha256:547c7cd0cad007520574ade75f3c2bb75a4815535a0d790bae4e324464671c0a',
    );
    const local = (excludePatterns: string[]): SourceOp => source({ type: 'local', name: 'context', includePatterns: ['src'], excludePatterns });
    expect(key(local(['*.md']), { type: 'local', checksum: digestOf('checksum') })).toBe('sha256:1737f41d33d1f60ef077b1cc9f0643e65b0965b10a0b99d617c7cfeb9aeb2d30');
    expect(key(local([]), { type: 'local', checksum: digestOf('checksum') })).toBe('sha256:5d3a98f32cc9fc8aa0733ecaf29b7d3676449da8e859b4d41993df81316be0e0');
    expect(key(source(gitSource), gitPin)).toBe('sha256:cef0685f5b8c26faf28a40bc8907a06ee0e9f9dacd5c13e7e2062436358afd36');
    const everyGitOption = { ...gitSource, subdir: '', keepGitDir: true, submodules: false, mtime: 'commit', checksum: 'aaaa' } as const;
    expect(key(source(everyGitOption), gitPin)).toBe('sha256:1340a93c4981fe9a53975f7dcb61547aee2c3c5de5756b679def85c71d3086fa');
    const httpPin: SourcePin = { type: 'http', digest: digestOf('body'), filename: 'f.txt', mtime: '' };
    expect(key(source({ type: 'http', url: 'https://example.com/f', filename: '' }), httpPin)).toBe('sha256:deeb46ab2653fbd44ae5bf4690f28739a0d54f91d349df741ec2e6e09fd7502b');
    const byContent = computeVertexKey(merge, { inputs: [{ content: digestOf('x'), selector: ['/'] }] }).preimage;
    expect(byContent.type === 'op' ? byContent.inputs[0]?.key : undefined).toBe('sha256:a3e796d6be81b844a477a6e862d9899e526ba44a6ab92e8f47a3fba990b104c8');
    expect(computeRerunKey(digestOf('input a'), digestOf('input b')).key).toBe('sha256:cf396bbc81be5fa9dee492bfb3604004158fd94fc460cc946acb22ae9f64940c');
  });

  it('names the output index when it is not the first, so each output of an op has its own key', () => {
    const first = computeVertexKey(SAMPLE_EXEC, { inputs });
    expect(computeVertexKey(SAMPLE_EXEC, { output: 0, inputs }).key).toBe(first.key);
    const second = computeVertexKey(SAMPLE_EXEC, { output: 1, inputs });
    expect(second.key).not.toBe(first.key);
    expect(second.preimage).toMatchObject({ type: 'op', kind: 'exec', output: 1 });
  });

  it('records what it hashed: the named fields, the output and each input, with the selector of one keyed by content', () => {
    const { preimage } = computeVertexKey(SAMPLE_FILE, { inputs: [inputs[0] ?? { key: digestOf('') }, { content: digestOf('files'), selector: ['/b', '/out/a'] }] });
    expect(preimage).toEqual({
      type: 'op',
      version: KEY_VERSION,
      kind: 'file',
      fields: { base: 0, actions: SAMPLE_FILE.actions, platform },
      output: 0,
      inputs: [{ key: digestOf('input a') }, { key: digestOf(JSON.stringify({ content: digestOf('files') })), content: digestOf('files'), selector: ['/b', '/out/a'] }],
    });
    expect(computeRerunKey(digestOf('k'), digestOf('c')).preimage).toEqual({ type: 'rerun', key: digestOf('k'), content: digestOf('c') });
  });

  it('keys inputs in order: swapping two inputs is another key', () => {
    expect(computeVertexKey(SAMPLE_FILE, { inputs }).key).not.toBe(computeVertexKey(SAMPLE_FILE, { inputs: [...inputs].reverse() }).key);
  });

  it('refuses to key a source without its pin, or with another kind of pin', () => {
    expect(() => computeVertexKey(source(gitSource), { inputs: [] })).toThrow('Cannot key the git source: no pin was resolved');
    expect(() => computeVertexKey(source(gitSource), { pin: { type: 'image', digest: digestOf('m') }, inputs: [] })).toThrow('Cannot key the git source: it was given a pin of type image');
  });
});
