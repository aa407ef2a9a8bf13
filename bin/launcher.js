// The launcher in JavaScript: what bin/tbuild runs when npm install could not build the C launcher (no compiler).
// It does what native/launcher/tbuild.c does: `tbuild build …` goes to the resident builder over its socket (started
// in the background when none listens), so a build costs a Node start-up and a few small modules instead of loading
// tbuild's bundle and opening its store; anything else (other commands, TBUILD_DAEMON=0, arguments that name this
// process's standard input, output or terminal, a busy or stale resident builder, any failure before it accepts the
// build) runs bin/tbuild.js in this process. The frames are the C launcher's (see cli/daemon-frames.ts).
import { closeSync, lstatSync, mkdirSync, openSync, realpathSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const repo = realpathSync(fileURLToPath(new URL('..', import.meta.url)));
const entry = join(repo, 'bin', 'tbuild.js');
/** A marker younger than this means another launcher is starting the resident builder. */
const STARTING_GRACE_MS = 10_000;
const LOG_LIMIT = 1024 * 1024;
const MAX_FRAME = 64 * 1024 * 1024;

const runDirect = () => import('./tbuild.js');

/** socketPath is the C launcher's choice: $TBUILD_DAEMON_SOCKET, /run/tbuild (root), $XDG_RUNTIME_DIR/tbuild, /tmp/tbuild-UID. */
function socketPath() {
  const given = process.env.TBUILD_DAEMON_SOCKET;
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (given) return given;
  if (process.geteuid() === 0) return '/run/tbuild/daemon.sock';
  if (xdg?.startsWith('/')) return join(xdg, 'tbuild', 'daemon.sock');
  return `/tmp/tbuild-${process.geteuid()}/daemon.sock`;
}

/** privateDir creates the socket's folder (0700) and tells whether nobody else can plant a socket in it. */
function privateDir(dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (st.isDirectory() && st.uid === process.geteuid() && (st.mode & 0o022) === 0) return true;
  process.stderr.write(`tbuild: not using the resident builder: ${dir} is writable by others or not owned by this user\n`);
  return false;
}

/** readsClientStdio: such builds name this process's stdin, stdout or terminal, which the resident builder does not have. */
function readsClientStdio(args) {
  const names = ['/dev/stdin', '/dev/stdout', '/dev/stderr', '/dev/fd/', '/dev/tty', '/proc/self/'];
  return args.slice(1).some((a) => a.startsWith('--on-error') || a === '-' || a === '-f-' || a.endsWith('=-') || names.some((n) => a.includes(n)));
}

/** startDaemon starts `tbuild daemon` detached, logging to daemon.log beside the socket, unless another launcher just did. */
async function startDaemon(sock, dir) {
  const marker = join(dir, 'daemon.starting');
  try {
    if (Date.now() - lstatSync(marker).mtimeMs < STARTING_GRACE_MS) return;
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  closeSync(openSync(marker, 'w', 0o600));
  const log = join(dir, 'daemon.log');
  let trim = false;
  try {
    trim = statSync(log).size > LOG_LIMIT;
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  // Loaded only here: a build the resident builder serves does without it.
  const { spawn } = await import('node:child_process');
  const out = openSync(log, trim ? 'w' : 'a', 0o600);
  const child = spawn(process.execPath, [entry, 'daemon', '--socket', sock], { detached: true, cwd: '/', stdio: ['ignore', out, out] });
  child.unref();
  closeSync(out);
}

function frame(type, payload = Buffer.alloc(0)) {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

function stream(s) {
  return { tty: s.isTTY === true, columns: s.isTTY ? s.columns : 0, rows: s.isTTY ? s.rows : 0 };
}

function sizes() {
  const payload = Buffer.alloc(8);
  for (const [i, s] of [process.stdout, process.stderr].entries()) {
    payload.writeUInt16BE(s.isTTY ? s.columns : 0, i * 4);
    payload.writeUInt16BE(s.isTTY ? s.rows : 0, i * 4 + 2);
  }
  return payload;
}

/**
 * forward sends the build to the resident builder at `sock` and relays its output; it settles with the exit status,
 * or with undefined when the build should run here (nobody listens, busy, stale: `absent` says to start one).
 */
function forward(sock) {
  return new Promise((resolve) => {
    const socket = connect(sock);
    let pending = Buffer.alloc(0);
    let accepted = false;
    let cancelled = false;
    let done = false;
    const finish = (status, start = false) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ status, start });
    };
    const onSignal = () => {
      if (cancelled) process.exit(130);
      cancelled = true;
      socket.write(frame('C'));
    };
    const lost = () => {
      if (!cancelled) process.stderr.write('tbuild: the resident builder closed the connection before the build finished (see daemon.log beside its socket)\n');
      finish(cancelled ? 130 : 1);
    };
    socket.on('error', (err) => {
      if (!accepted) finish(undefined, err.code === 'ENOENT' || err.code === 'ECONNREFUSED');
      else lost();
    });
    socket.on('connect', () => {
      const request = {
        v: 1,
        umask: process.umask(),
        argv,
        cwd: process.cwd(),
        repo,
        node: process.execPath,
        stdout: stream(process.stdout),
        stderr: stream(process.stderr),
        env: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
      };
      socket.write(frame('R', Buffer.from(JSON.stringify(request))));
    });
    socket.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // A frame longer than the C launcher takes means a broken stream, as there.
      if (pending.length >= 5 && pending.readUInt32BE(1) > MAX_FRAME) return accepted ? lost() : finish(undefined, false);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        const type = pending.toString('latin1', 0, 1);
        const payload = pending.subarray(5, 5 + pending.readUInt32BE(1));
        pending = pending.subarray(5 + payload.length);
        if (!accepted) {
          // A stale resident builder has closed its socket and exits: start one with this code for the next builds.
          if (type !== 'A') return finish(undefined, type === 'S');
          accepted = true;
          // A closed stdout (`| head`) ends this process as it ends the C launcher; the resident builder then cancels.
          process.stdout.on('error', () => process.exit(1));
          for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);
          if (process.stdout.isTTY || process.stderr.isTTY) process.on('SIGWINCH', () => socket.write(frame('W', sizes())));
        } else if (type === 'O') process.stdout.write(payload);
        else if (type === 'E') process.stderr.write(payload);
        else if (type === 'X' && payload.length === 4) return finish(payload.readUInt32BE(0));
      }
    });
    socket.on('close', () => {
      if (done) return undefined;
      return accepted ? lost() : finish(undefined, false);
    });
  });
}

async function main() {
  if (argv[0] !== 'build' || process.env.TBUILD_DAEMON === '0' || readsClientStdio(argv)) return runDirect();
  const sock = socketPath();
  try {
    if (!privateDir(dirname(sock))) return runDirect();
  } catch (err) {
    // No folder for the socket (a read-only /run, say): the build runs here, as with the C launcher.
    process.stderr.write(`tbuild: not using the resident builder: ${err.message}\n`);
    return runDirect();
  }
  const { status, start } = await forward(sock);
  if (status !== undefined) {
    process.exitCode = status;
    return undefined;
  }
  if (start) {
    try {
      await startDaemon(sock, dirname(sock));
    } catch (err) {
      // This build runs here in any case; the next one tries to start the resident builder again.
      process.stderr.write(`tbuild: cannot start the resident builder: ${err.message}\n`);
    }
  }
  return runDirect();
}

await main();
