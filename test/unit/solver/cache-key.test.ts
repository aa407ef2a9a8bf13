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
  it('pins the keys of this KEY_VERSION: a change to any of them must come with a new version', () => {
    const merge: MergeOp = { kind: 'merge', platform };
    const key = (op: Parameters<typeof computeVertexKey>[0], pin?: SourcePin, withInputs = false): string =>
      computeVertexKey(op, { ...(pin === undefined ? {} : { pin }), inputs: withInputs ? inputs : [] }).key;
    expect(key(SAMPLE_EXEC, undefined, true)).toBe('sha256:2ed977dbae782f5db4cb01b62bdc7e1b0f79656ef01280e4ae30e26aeac0bdfa');
    expect(key(SAMPLE_FILE, undefined, true)).toBe('sha256:4011bcf498c3735895b68812b748dca6fc1a46568ed4cee358e1e1e1f6dcff2b');
    expect(key(merge, undefined, true)).toBe('sha256:5960526bc852503c685785b4a465d42f4dbb48d8347ac273d43424045bafc5d8');
    expect(key(source({ type: 'image', ref: 'docker.io/library/busybox:latest' }), { type: 'image', digest: digestOf('manifest') })).toBe(
      'sha256:321401a85a00e576d564a57bf3493a7063d34df2ab731406c504e1120af317f3',
    );
    const local = (excludePatterns: string[]): SourceOp => source({ type: 'local', name: 'context', includePatterns: ['src'], excludePatterns });
    expect(key(local(['*.md']), { type: 'local', checksum: digestOf('checksum') })).toBe('sha256:99a43c14da504b2b5ac9187271b99154915e80f28d5a91b6a5f72d04f59331af');
    expect(key(local([]), { type: 'local', checksum: digestOf('checksum') })).toBe('sha256:9cb6d63e40b8a34c027aadfeb92d2aaec078dd7e4880f86b4d80feae1e7a1e45');
    expect(key(source(gitSource), gitPin)).toBe('sha256:802ac528aa0902eab3a48882151c1c179bc6ee57a5877eae8169746cd1ec1fb4');
    const everyGitOption = { ...gitSource, subdir: '', keepGitDir: true, submodules: false, mtime: 'commit', checksum: 'aaaa' } as const;
    expect(key(source(everyGitOption), gitPin)).toBe('sha256:8ba47f0c0861a9ad8b8265e469dad96f098141eb82cb84fd916605a4e2725570');
    const httpPin: SourcePin = { type: 'http', digest: digestOf('body'), filename: 'f.txt', mtime: '' };
    expect(key(source({ type: 'http', url: 'https://example.com/f', filename: '' }), httpPin)).toBe('sha256:fa321b004fed8e028dedd57bffbe7eac429a524c49f654f53492a372866524b3');
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
