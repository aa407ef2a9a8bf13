import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../base/errors.js';
import { parseBuildCommand } from '../../../cli/build-command.js';
import { parseDuration, parseSize } from '../../../cli/cache-commands.js';
import { parseOutput } from '../../../cli/output-spec.js';
import { environmentOf } from '../../../cli/build-request.js';
import { parseBuildContext } from '../../../cli/inspect-flags.js';

/** PLACE is the command's folder and environment: relative paths start from /w. */
const PLACE = { cwd: '/w', env: { SOURCE_DATE_EPOCH: '10' } };

const gzip = { compression: 'gzip', forceCompression: false };

describe('tbuild build command line', () => {
  it('reads --no-process-sandbox as a boolean flag, off by default', () => {
    expect(parseBuildCommand(['.'], PLACE).noProcessSandbox).toBe(false);
    expect(parseBuildCommand(['--no-process-sandbox', '.'], PLACE).noProcessSandbox).toBe(true);
    expect(parseBuildCommand(['--no-process-sandbox=false', '.'], PLACE).noProcessSandbox).toBe(false);
  });

  it('reads the buildx flags it shares', () => {
    const cmd = parseBuildCommand(['-t', 'a:1', '--tag', 'b', '-f', '/x/Dockerfile.dev', '--build-arg', 'K=V', '--build-arg', 'E=', '--target', 'final', '--no-cache', '--progress', 'plain', '--iidfile', 'iid', '--metadata-file', 'meta.json', '/ctx'], PLACE);
    expect(cmd.context).toEqual({ kind: 'folder', dir: '/ctx' });
    expect(cmd.dockerfile).toEqual({ kind: 'path', path: '/x/Dockerfile.dev' });
    expect([cmd.iidfile, cmd.metadataFile]).toEqual(['/w/iid', '/w/meta.json']);
    expect([...(cmd.request.buildArgs ?? [])]).toEqual([['K', 'V'], ['E', '']]);
    expect(cmd.request.target).toBe('final');
    expect(cmd.request.noCache).toBe(true);
    expect(cmd.progress).toBe('plain');
    expect(cmd.request.outputs).toEqual([{ type: 'image', names: ['a:1', 'b'], push: false, image: gzip }]);
  });

  it('defaults the Dockerfile to PATH/Dockerfile and builds only the cache without -t or -o', () => {
    const cmd = parseBuildCommand(['/ctx'], PLACE);
    expect(cmd.dockerfile).toEqual({ kind: 'path', path: '/ctx/Dockerfile' });
    expect(cmd.request.outputs).toEqual([]);
  });

  it('turns --push into a pushing image output and --load into a Docker load', () => {
    expect(parseBuildCommand(['--push', '-t', 'r/x', '.'], PLACE).request.outputs).toEqual([{ type: 'image', names: ['r/x'], push: true, image: gzip }]);
    expect(parseBuildCommand(['--load', '-t', 'x', '.'], PLACE).request.outputs).toContainEqual({ type: 'load', names: ['x'], image: gzip });
  });

  it('reads --label, --annotation and -q as docker buildx does', () => {
    const cmd = parseBuildCommand(['-q', '--label', 'a=1', '--label', 'b=x=y', '--label', 'a=2', '--annotation', 'org.k=v', '--annotation', 'index:org.i=w', '-t', 'x', '-o', 'type=oci,dest=/o.tar,annotation.org.k=own', '.'], PLACE);
    expect(cmd.progress).toBe('quiet');
    expect(cmd.request.labels).toEqual({ a: '2', b: 'x=y' });
    expect(cmd.request.outputs).toEqual([
      { type: 'oci', dest: '/o.tar', names: ['x'], image: { ...gzip, annotations: { manifest: { 'org.k': 'own' }, index: { 'org.i': 'w' } } } },
    ]);
    const pushed = parseBuildCommand(['--annotation', 'manifest,index:org.k=v', '--push', '-t', 'r/x', '.'], PLACE).request.outputs[0];
    expect(pushed).toEqual({ type: 'image', names: ['r/x'], push: true, image: { ...gzip, annotations: { manifest: { 'org.k': 'v' }, index: { 'org.k': 'v' } } } });
    expect(() => parseBuildCommand(['--label', 'novalue', '.'], PLACE)).toThrow(/--label "novalue"/);
    expect(() => parseBuildCommand(['--annotation', 'manifest-descriptor:k=v', '.'], PLACE)).toThrow(/not supported/);
    expect(() => parseBuildCommand(['-q', '--progress', 'plain', '.'], PLACE)).toThrow(/--quiet/);
  });

  it('reads paths from the command folder, and names contexts that are not folders', () => {
    const cmd = parseBuildCommand(['-o', 'type=tar,dest=out.tar', '-o', 'type=oci,dest=-', 'ctx'], PLACE);
    expect(cmd.context).toEqual({ kind: 'folder', dir: '/w/ctx' });
    expect(cmd.request.outputs).toEqual([{ type: 'tar', dest: '/w/out.tar' }, { type: 'oci', dest: '-', names: [], image: gzip }]);
    expect(parseBuildCommand(['-f', 'sub/Dockerfile', '-'], PLACE)).toMatchObject({ context: { kind: 'stdin' }, dockerfile: { kind: 'in-context', path: 'sub/Dockerfile' } });
    expect(parseBuildCommand(['https://example.com/app.git'], PLACE)).toMatchObject({ context: { kind: 'url', url: 'https://example.com/app.git' }, dockerfile: { kind: 'in-context', path: null } });
    expect(parseBuildCommand(['-f', '-', '.'], PLACE).dockerfile).toEqual({ kind: 'stdin' });
  });

  it('takes the values a build needs from the command environment, leaving the build args as given', () => {
    const env = { SOURCE_DATE_EPOCH: '10', SSH_AUTH_SOCK: '/a.sock', HOME: '/home/u', DOCKER_HOST: 'tcp://d:2375', PATH: '/bin', UNSET: undefined };
    expect(environmentOf({ env, umask: 0o077 })).toEqual({
      sourceDateEpoch: '10', sshAuthSock: '/a.sock', dockerHost: 'tcp://d:2375', dockerConfigDir: '/home/u/.docker', umask: 0o077,
      processEnv: { SOURCE_DATE_EPOCH: '10', SSH_AUTH_SOCK: '/a.sock', HOME: '/home/u', DOCKER_HOST: 'tcp://d:2375', PATH: '/bin' },
    });
    expect(environmentOf({ env: { DOCKER_CONFIG: '/cfg' }, umask: 0o022 }).dockerConfigDir).toBe('/cfg');
  });

  it('takes a git repository or an http(s) URL as a named context, as buildx passes them on', () => {
    const contexts = parseBuildCommand(['--build-context', 'a=https://example.com/src.tar', '--build-context', 'b=git@example.com:r.git', '--build-context', 'c=docker-image://busybox', '.'], PLACE).request.buildContexts;
    expect(contexts).toEqual([
      { name: 'a', type: 'url', url: 'https://example.com/src.tar' },
      { name: 'b', type: 'url', url: 'git@example.com:r.git' },
      { name: 'c', type: 'image', ref: 'busybox' },
    ]);
    expect(() => parseBuildCommand(['--build-context', 'a=ftp://example.com/x', '.'], PLACE)).toThrow(/a git repository or an http\(s\) URL/);
  });

  it('takes an OCI layout as a named context by path, tag and digest, as buildx splits them', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    const parse = (value: string): unknown => parseBuildContext(value, '/work');
    expect(parse('a=oci-layout:///l')).toEqual({ name: 'a', type: 'oci-layout', path: '/l', tag: 'latest' });
    expect(parse('a=oci-layout://rel/l:v1')).toEqual({ name: 'a', type: 'oci-layout', path: '/work/rel/l', tag: 'v1' });
    expect(parse(`a=oci-layout://l@${d}`)).toEqual({ name: 'a', type: 'oci-layout', path: '/work/l', digest: d });
    expect(parse(`a=oci-layout://l:v1@${d}`)).toEqual({ name: 'a', type: 'oci-layout', path: '/work/l', tag: 'v1', digest: d });
    // A colon followed by no valid tag stays in the path (buildx's TagRegexp); so does an @ followed by no digest.
    expect(parse('a=oci-layout:///l:/x')).toEqual({ name: 'a', type: 'oci-layout', path: '/l:/x', tag: 'latest' });
    expect(parse('a=oci-layout:///l@x')).toEqual({ name: 'a', type: 'oci-layout', path: '/l@x', tag: 'latest' });
    expect(() => parse('a=oci-layout://')).toThrow(/--build-context "a=oci-layout:\/\/": expected oci-layout:\/\/PATH/);
    expect(() => parse(`a=oci-layout://l@sha512:${'b'.repeat(128)}`)).toThrow(/unsupported digest "sha512:/);
  });

  it('rejects what it cannot use, naming it', () => {
    expect(() => parseBuildCommand(['--progress', 'fancy', '.'], PLACE)).toThrow(/--progress=fancy/);
    expect(() => parseBuildCommand(['--frobnicate', '.'], PLACE)).toThrow(UsageError);
    expect(() => parseBuildCommand([], PLACE)).toThrow(/exactly one context PATH/);
    expect(() => parseBuildCommand(['--platform', 'linux', '.'], PLACE)).toThrow(/OS\/ARCH/);
    expect(() => parseBuildCommand(['--platform', 'linux/amd64,linux', '.'], PLACE)).toThrow(/OS\/ARCH/);
    expect(() => parseBuildCommand(['--platform', ',', '.'], PLACE)).toThrow(/OS\/ARCH/);
    expect(() => parseBuildCommand(['--platform', 'linux/arm/v7/x', '.'], PLACE)).toThrow(/OS\/ARCH/);
  });
});

describe('--platform', () => {
  it('reads one platform, or several built together (the same one given twice counts once)', () => {
    expect(parseBuildCommand(['--platform', 'linux/arm64', '.'], PLACE).request).toMatchObject({ platform: { os: 'linux', architecture: 'arm64' } });
    const several = parseBuildCommand(['--platform', 'linux/amd64, linux/arm/v7,linux/amd64', '.'], PLACE).request;
    expect(several.platform).toBeUndefined();
    expect(several.platforms).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm', variant: 'v7' },
    ]);
  });
});

describe('--output', () => {
  it('reads the CSV form of every type', () => {
    expect(parseOutput('type=oci,dest=out.tar', ['x'])).toEqual({ type: 'oci', dest: 'out.tar', names: ['x'], image: gzip });
    expect(parseOutput('type=local,dest=dir', [])).toEqual({ type: 'local', dest: 'dir' });
    expect(parseOutput('type=tar,dest=-', [])).toEqual({ type: 'tar', dest: '-' });
    expect(parseOutput('type=image,name=a,push=true,compression=zstd,compression-level=3', [])).toEqual({
      type: 'image', names: ['a'], push: true, image: { compression: 'zstd', compressionLevel: 3, forceCompression: false },
    });
    expect(parseOutput('type=registry', ['r/x'])).toMatchObject({ type: 'image', push: true });
    expect(parseOutput('type=docker', ['x'])).toMatchObject({ type: 'load' });
  });

  it('takes several image names as buildx does: repeated name= keys or one quoted comma list', () => {
    const both = { type: 'oci', dest: 'o', names: ['org/repo:tag1', 'org/repo:tag2'], image: gzip };
    expect(parseOutput('type=oci,dest=o,name=org/repo:tag1,name=org/repo:tag2', [])).toEqual(both);
    expect(parseOutput('type=oci,dest=o,"name=org/repo:tag1,org/repo:tag2"', [])).toEqual(both);
    // -t names replace an output's own, as buildx fills them in.
    expect(parseOutput('type=oci,dest=o,"name=a,b"', ['t'])).toMatchObject({ names: ['t'] });
  });

  it('takes a bare folder as type=local and - as a tar on stdout', () => {
    expect(parseOutput('out/', [])).toEqual({ type: 'local', dest: 'out/' });
    expect(parseOutput('-', [])).toEqual({ type: 'tar', dest: '-' });
  });

  it('reads BuildKit\'s epoch attributes of image outputs: source-date-epoch (empty for none) and rewrite-timestamp', () => {
    expect(parseOutput('type=oci,dest=o.tar,rewrite-timestamp=true,source-date-epoch=1700000000', [])).toMatchObject({ image: { rewriteTimestamp: true, sourceDateEpoch: 1_700_000_000 } });
    expect(parseOutput('type=image,name=a,source-date-epoch=', [])).toMatchObject({ image: { sourceDateEpoch: null } });
    expect(parseOutput('type=oci,dest=o.tar,rewrite-timestamp=false', [])).toMatchObject({ image: { rewriteTimestamp: false } });
    expect(() => parseOutput('type=oci,dest=o.tar,source-date-epoch=yesterday', [])).toThrow(/source-date-epoch="yesterday"/);
    expect(() => parseOutput('type=oci,dest=o.tar,rewrite-timestamp=maybe', [])).toThrow(/rewrite-timestamp="maybe"/);
  });

  it('reads platform-split on local and tar outputs, as BuildKit\'s local and tar exporters take it', () => {
    expect(parseOutput('type=local,dest=out,platform-split=false', [])).toEqual({ type: 'local', dest: 'out', platformSplit: false });
    expect(parseOutput('type=tar,dest=o.tar,platform-split=true', [])).toEqual({ type: 'tar', dest: 'o.tar', platformSplit: true });
    expect(() => parseOutput('type=local,dest=out,platform-split=perhaps', [])).toThrow(/platform-split="perhaps"/);
  });

  it('reads source-date-epoch on local and tar outputs too, as BuildKit\'s local and tar exporters take it', () => {
    expect(parseOutput('type=local,dest=out,source-date-epoch=5', [])).toEqual({ type: 'local', dest: 'out', sourceDateEpoch: 5 });
    expect(parseOutput('type=tar,dest=o.tar,source-date-epoch=', [])).toEqual({ type: 'tar', dest: 'o.tar', sourceDateEpoch: null });
    expect(parseOutput('type=tar,dest=o.tar', [])).toEqual({ type: 'tar', dest: 'o.tar' });
    expect(() => parseOutput('type=local,dest=out,source-date-epoch=x', [])).toThrow(/source-date-epoch="x"/);
  });

  it('rejects unknown types and missing destinations', () => {
    expect(() => parseOutput('type=ftp,dest=x', [])).toThrow(/type=ftp/);
    expect(() => parseOutput('type=oci', [])).toThrow(/dest=/);
    expect(() => parseOutput('type=image,compression=lz4', [])).toThrow(/compression "lz4"/);
  });
});

describe('prune option values', () => {
  it('reads durations and sizes', () => {
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(() => parseDuration('soon')).toThrow(UsageError);
    expect(parseSize('10GB')).toBe(10e9);
    expect(parseSize('1GiB')).toBe(2 ** 30);
    expect(parseSize('512')).toBe(512);
  });
});
