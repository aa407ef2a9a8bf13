import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../fixtures/registry.js';
import { useBuildEnvironment } from '../helpers/build-env.js';
import { REPO_ROOT, runTbuild } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../helpers/remote-server.js';

/**
 * BadInput is one mistake a user can make, and what tbuild must answer: the exit status the README documents (2 for
 * a bad command line or Dockerfile, 1 for a failed build), a message naming what to fix, and the Dockerfile line.
 */
interface BadInput {
  readonly name: string;
  /** Dockerfile of the case's own context (none: the context has none). */
  readonly dockerfile?: string;
  /** Arguments; @CTX@ is the case's context folder, @TMP@ the suite's temp folder, @TLS@ a TLS builder with a token. */
  readonly args: readonly string[];
  readonly code: 1 | 2;
  readonly says: RegExp;
  /** `Dockerfile:LINE` the message points at. */
  readonly at?: string;
}

const env = useBuildEnvironment();
let tls: ServeProcess | undefined;
let tlsAddress = '';
let closedPort = 0;

beforeAll(async () => {
  const dir = join(env.tmp.path, 'tls');
  await mkdir(dir);
  const openssl = (...args: string[]) => promisify(execFile)('openssl', args, { cwd: dir });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=builder', '-keyout', 'server.key', '-out', 'server.csr');
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  await openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem');
  const port = await freePort();
  tls = await startServe(['--addr', `tcp://127.0.0.1:${port}`, '--tlscert', join(dir, 'server.pem'), '--tlskey', join(dir, 'server.key'), '--token', 'right', '--root', join(env.tmp.path, 'serve-root')]);
  tlsAddress = `tcp://127.0.0.1:${port}`;
  closedPort = await freePort();
  await writeFile(join(env.tmp.path, 'a-file'), 'x');
  await mkdir(join(env.tmp.path, 'a-folder'));
}, 120_000);

afterAll(async () => {
  await tls?.[Symbol.asyncDispose]();
});

const FROM = 'FROM busybox\n';

/** CASES are at least 30 mistakes across Dockerfiles, flags, contexts, outputs, registries and builder connections. */
const CASES: readonly BadInput[] = [
  // Dockerfiles
  { name: 'unknown instruction', dockerfile: 'FROM busybox\nFORM busybox\n', args: ['@CTX@'], code: 2, says: /unknown instruction: FORM/i, at: 'Dockerfile:2' },
  { name: 'empty Dockerfile', dockerfile: '', args: ['@CTX@'], code: 2, says: /no instructions/i },
  { name: 'COPY of a missing file', dockerfile: `${FROM}COPY missing.txt /x\n`, args: ['@CTX@'], code: 1, says: /"\/missing\.txt": not found/, at: 'Dockerfile:2' },
  { name: 'ADD of a missing file', dockerfile: `${FROM}ADD missing.tar /x\n`, args: ['@CTX@'], code: 1, says: /"\/missing\.tar": not found/, at: 'Dockerfile:2' },
  { name: 'COPY --from a missing path of an image', dockerfile: `${FROM}COPY --from=busybox /nope /x\n`, args: ['@CTX@'], code: 1, says: /"\/nope": not found/, at: 'Dockerfile:2' },
  { name: 'RUN that fails', dockerfile: `${FROM}RUN exit 3\n`, args: ['@CTX@'], code: 1, says: /exit code: 3|exit code 3/, at: 'Dockerfile:2' },
  { name: 'COPY with one argument', dockerfile: `${FROM}COPY onlyone\n`, args: ['@CTX@'], code: 2, says: /COPY requires at least two arguments/i, at: 'Dockerfile:2' },
  { name: 'unterminated heredoc', dockerfile: `${FROM}RUN <<EOF\necho hi\n`, args: ['@CTX@'], code: 2, says: /heredoc|EOF/i, at: 'Dockerfile:2' },
  { name: 'FROM of a platform without an architecture', dockerfile: 'FROM --platform=linux busybox\n', args: ['@CTX@'], code: 2, says: /linux/, at: 'Dockerfile:1' },
  { name: 'unknown --target', dockerfile: FROM, args: ['--target', 'nope', '@CTX@'], code: 2, says: /target stage "?nope"? could not be found|"nope"/i },
  { name: 'missing -f Dockerfile', dockerfile: FROM, args: ['-f', '@CTX@/Nope.Dockerfile', '@CTX@'], code: 2, says: /Nope\.Dockerfile/ },
  // Flags
  { name: 'unknown build flag', dockerfile: FROM, args: ['--bogus', '@CTX@'], code: 2, says: /unknown option "--bogus"/ },
  { name: 'bad --progress', dockerfile: FROM, args: ['--progress', 'fancy', '@CTX@'], code: 2, says: /--progress=fancy/ },
  { name: 'bad --platform', dockerfile: FROM, args: ['--platform', 'linux', '@CTX@'], code: 2, says: /--platform=linux: expected OS\/ARCH/ },
  { name: 'bad --build-arg', dockerfile: FROM, args: ['--build-arg', '=x', '@CTX@'], code: 2, says: /--build-arg "=x"/ },
  { name: 'secret file missing', dockerfile: FROM, args: ['--secret', 'id=s,src=@TMP@/no-such-secret', '@CTX@'], code: 2, says: /--secret id=s: failed to stat .*no-such-secret: no such file/ },
  { name: 'secret file unreadable (a folder)', dockerfile: `${FROM}RUN --mount=type=secret,id=s cat /run/secrets/s\n`, args: ['--secret', 'id=s,src=@TMP@/a-folder', '@CTX@'], code: 2, says: /--secret id=s: .*a-folder is a folder, not a file/ },
  { name: 'bad --allow', dockerfile: FROM, args: ['--allow', 'everything', '@CTX@'], code: 2, says: /--allow=everything/ },
  { name: 'bad --network', dockerfile: FROM, args: ['--network', 'bogus', '@CTX@'], code: 2, says: /--network.*bogus/ },
  { name: 'bad --oci-runtime', dockerfile: FROM, args: ['--oci-runtime', 'kata', '@CTX@'], code: 2, says: /--oci-runtime=kata/ },
  { name: 'bad --shm-size', dockerfile: FROM, args: ['--shm-size', 'lots', '@CTX@'], code: 2, says: /--shm-size.*lots/ },
  { name: 'unknown output type', dockerfile: FROM, args: ['-o', 'type=bogus', '@CTX@'], code: 2, says: /bogus/ },
  { name: '--on-error=shell without a terminal', dockerfile: `${FROM}RUN exit 3\n`, args: ['--on-error=shell', '@CTX@'], code: 2, says: /Cannot use --on-error=shell: standard input and output must be a terminal/ },
  { name: '--shell without --on-error', dockerfile: FROM, args: ['--shell', '/bin/bash', '@CTX@'], code: 2, says: /Cannot use --shell without --on-error=shell/ },
  { name: 'unsupported cache backend', dockerfile: FROM, args: ['--cache-to', 'type=gha', '@CTX@'], code: 2, says: /gha/ },
  // Contexts
  { name: 'context folder missing', args: ['@TMP@/no-such-context'], code: 2, says: /Cannot use ".*no-such-context" as the build context: no such folder/ },
  { name: 'context is a file', args: ['@TMP@/a-file'], code: 2, says: /Cannot use ".*a-file" as the build context: it is a file, not a folder/ },
  // Outputs
  { name: 'output under a file', dockerfile: FROM, args: ['-o', 'type=oci,dest=@TMP@/a-file/x.tar', '@CTX@'], code: 1, says: /Cannot write the output to ".*a-file\/x\.tar": .*is a file/ },
  { name: 'output onto a folder', dockerfile: FROM, args: ['-o', 'type=tar,dest=@TMP@/a-folder', '@CTX@'], code: 1, says: /Cannot write the output to ".*a-folder": it is a folder/ },
  { name: 'local output onto a file', dockerfile: FROM, args: ['-o', 'type=local,dest=@TMP@/a-file', '@CTX@'], code: 1, says: /Cannot write the output to ".*a-file"/ },
  { name: '--iidfile under a file', dockerfile: FROM, args: ['-t', 'bad-input', '--iidfile', '@TMP@/a-file/iid', '@CTX@'], code: 2, says: /Cannot write --iidfile ".*a-file\/iid"/ },
  // Registries
  { name: 'image missing in the registry', dockerfile: 'FROM @REGISTRY@/nothere/img:1\n', args: ['@CTX@'], code: 2, says: /nothere\/img:1.*(manifest unknown|not found)/s, at: 'Dockerfile:1' },
  { name: 'registry not listening', dockerfile: 'FROM 127.0.0.1:@CLOSED@/x:1\n', args: ['@CTX@'], code: 1, says: /127\.0\.0\.1:\d+.*(refused|cannot reach)/is, at: 'Dockerfile:1' },
  { name: 'mirror 404 before the origin failed', dockerfile: 'FROM nothere/img:1\n', args: ['@CTX@'], code: 1, says: /hint: before the origin, mirror 127\.0\.0\.1:\d+ answered 404/, at: 'Dockerfile:1' },
  // Builder connections
  { name: 'builder not listening', dockerfile: FROM, args: ['--builder', 'tcp://127.0.0.1:@CLOSED@', '@CTX@'], code: 1, says: /nothing listens there/ },
  { name: 'builder socket missing', dockerfile: FROM, args: ['--builder', 'unix://@TMP@/no.sock', '@CTX@'], code: 1, says: /no socket there/ },
  { name: 'plain TCP to a TLS builder', dockerfile: FROM, args: ['--builder', '@TLS@', '@CTX@'], code: 1, says: /hung up on a plain TCP connection\n(.*\n)*hint: .*--tlscacert/ },
  { name: 'wrong token', dockerfile: FROM, args: ['--builder', '@TLS@', '--tlscacert', '@TMP@/tls/ca.pem', '--token', 'wrong', '@CTX@'], code: 1, says: /invalid token/ },
  { name: 'serve on TCP without TLS or --insecure', args: ['serve', '--addr', 'tcp://127.0.0.1:@CLOSED@', '--root', '@TMP@/serve-plain'], code: 2, says: /without TLS\nhint: .*--insecure/ },
  // Other commands
  { name: 'unknown command', args: ['biuld'], code: 2, says: /Unknown command "biuld"\nhint: did you mean "build"/ },
  { name: 'unknown prune option', args: ['prune', '--everything'], code: 2, says: /tbuild prune: unknown option "--everything"/ },
  { name: 'images with a builder', args: ['images', '--builder', '@TLS@'], code: 2, says: /Cannot use --builder with tbuild images/ },
  { name: 'completion for an unknown shell', args: ['completion', 'pwsh'], code: 2, says: /"pwsh": expected bash, zsh or fish/ },
];

/** expand replaces the placeholders of a case's arguments and Dockerfile. */
function expand(text: string, ctx: string): string {
  return text
    .replaceAll('@CTX@', ctx)
    .replaceAll('@TMP@', env.tmp.path)
    .replaceAll('@TLS@', tlsAddress)
    .replaceAll('@CLOSED@', String(closedPort))
    .replaceAll('@REGISTRY@', env.registry.host);
}

describe('bad input', () => {
  it('has at least 30 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s: names the cause, exits as documented, never "internal error"', async (_name, c, i) => {
    const ctx = join(env.tmp.path, `case-${i}`);
    await mkdir(ctx, { recursive: true });
    if (c.dockerfile !== undefined) await writeFile(join(ctx, 'Dockerfile'), expand(c.dockerfile, ctx));
    const args = c.args.map((a) => expand(a, ctx));
    const commands = new Set(['serve', 'biuld', 'prune', 'images', 'completion']);
    const argv = commands.has(args[0] ?? '') ? args : ['build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'plain', ...args];
    const res = await runTbuild(argv, { env: { XDG_CONFIG_HOME: join(env.tmp.path, 'xdg'), XDG_CACHE_HOME: join(env.tmp.path, 'xdg-cache'), TBUILD_ROOT: join(env.tmp.path, 'root') } });
    const errors = res.stderr.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(errors, c.name).not.toContain('internal error');
    expect(res.code, `${c.name}: ${errors}`).toBe(c.code);
    expect(errors, c.name).toMatch(c.says);
    if (c.at !== undefined) expect(errors, c.name).toContain(` --> ${c.at}`);
  }, 120_000);

  it('ends quietly with 141 when the reader of standard output goes away', async () => {
    const ctx = join(env.tmp.path, 'closed-pipe');
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, 'Dockerfile'), FROM);
    const tbuild = [process.execPath, join(REPO_ROOT, 'bin', 'tbuild.js'), 'build', '--root', join(env.tmp.path, 'root'), '--config', env.config, '--progress', 'quiet', '-o', 'type=tar,dest=-', ctx];
    const script = `"$@" 2>"${join(env.tmp.path, 'closed-pipe.err')}" | head -c1 >/dev/null; echo "\${PIPESTATUS[0]}"`;
    const { stdout } = await promisify(execFile)('bash', ['-c', script, 'bash', ...tbuild]);
    expect(stdout.trim()).toBe('141');
    expect(await readFile(join(env.tmp.path, 'closed-pipe.err'), 'utf8')).toBe('');
  }, 120_000);
});
