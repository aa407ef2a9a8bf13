import { describe, expect, it } from 'vitest';
import { parseGoBool, takeBoolFlags } from '../../../cli/bool-flags.js';
import { parseBuildCommand } from '../../../cli/build-command.js';

const PLACE = { cwd: '/w', env: {} };
const OPTIONS = { push: { type: 'boolean' }, tag: { type: 'string', short: 't' }, quiet: { type: 'boolean', short: 'q' } } as const;

describe('parseGoBool', () => {
  it("reads every form of Go's strconv.ParseBool and nothing else", () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(t)).toBe(true);
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(f)).toBe(false);
    for (const x of ['', 'yes', 'tRUE', 'on']) expect(parseGoBool(x)).toBeUndefined();
  });
});

describe('takeBoolFlags', () => {
  it('takes --flag and --flag=BOOL, the last one winning, and leaves the values of other options alone', () => {
    const out = takeBoolFlags(['--push', '-t', '--push=x', '--push=false', '--tag', 'y', '-q', 'ctx'], OPTIONS);
    expect(out.args).toEqual(['-t', '--push=x', '--tag', 'y', '-q', 'ctx']);
    expect([...out.values]).toEqual([['push', false]]);
    expect([...takeBoolFlags(['--push=0', '--push=T'], OPTIONS).values]).toEqual([['push', true]]);
  });

  it('stops at -- and refuses a value that is not a Go boolean, naming the flag', () => {
    expect(takeBoolFlags(['--', '--push'], OPTIONS)).toEqual({ args: ['--', '--push'], values: new Map() });
    expect(() => takeBoolFlags(['--push=yes'], OPTIONS)).toThrow('Cannot use --push="yes": expected a boolean');
  });
});

describe('tbuild build boolean flags', () => {
  it('reads --pull=false, --push=true, --load=false, --no-cache=false as buildx does', () => {
    const cmd = parseBuildCommand(['--pull=false', '--push=true', '--load=false', '--no-cache=false', '-t', 'r/x', '.'], PLACE);
    expect(cmd.request.pull).toBe(false);
    expect(cmd.request.noCache).toBe(false);
    expect(cmd.request.outputs).toEqual([{ type: 'image', names: ['r/x'], push: true, image: { compression: 'gzip', forceCompression: false } }]);
    const on = parseBuildCommand(['--pull=1', '--no-cache=t', '--load=true', '--push=false', '-t', 'x', '.'], PLACE);
    expect([on.request.pull, on.request.noCache]).toEqual([true, true]);
    expect(on.request.outputs).toContainEqual({ type: 'load', names: ['x'], image: { compression: 'gzip', forceCompression: false } });
    expect(on.request.outputs.some((o) => o.type === 'image' && o.push)).toBe(false);
    const other = parseBuildCommand(['--quiet=true', '--debug=1', '--check=false', '.'], PLACE);
    expect([other.progress, other.debug, other.request.check]).toEqual(['quiet', true, undefined]);
  });

  it('takes --platform more than once, as buildx does', () => {
    expect(parseBuildCommand(['--platform', 'linux/amd64', '--platform', 'linux/arm64', '.'], PLACE).request.platforms).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
  });
});

describe('tbuild build progress mode', () => {
  it('takes BUILDKIT_PROGRESS as the default mode, as buildx does, below --progress and -q', () => {
    expect(parseBuildCommand(['.'], { cwd: '/w', env: { BUILDKIT_PROGRESS: 'rawjson' } }).progress).toBe('rawjson');
    expect(parseBuildCommand(['--progress', 'plain', '.'], { cwd: '/w', env: { BUILDKIT_PROGRESS: 'rawjson' } }).progress).toBe('plain');
    expect(parseBuildCommand(['-q', '.'], { cwd: '/w', env: { BUILDKIT_PROGRESS: 'plain' } }).progress).toBe('quiet');
    expect(parseBuildCommand(['--progress=auto', '.'], { cwd: '/w', env: { BUILDKIT_PROGRESS: 'none' } }).progress).toBe('none');
    expect(() => parseBuildCommand(['.'], { cwd: '/w', env: { BUILDKIT_PROGRESS: 'fancy' } })).toThrow(/Cannot use BUILDKIT_PROGRESS=fancy: expected auto/);
  });
});
