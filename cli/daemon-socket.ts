import { lstat, mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { UsageError, errnoCode } from '../base/errors.js';
import { hostUid } from '../base/user-namespace.js';

/**
 * defaultDaemonSocket returns where the launcher (native/launcher/tbuild.c) looks for the resident builder:
 * $TBUILD_DAEMON_SOCKET, /run/tbuild/daemon.sock as root, else $XDG_RUNTIME_DIR/tbuild or /tmp/tbuild-UID.
 */
export function defaultDaemonSocket(env: NodeJS.ProcessEnv = process.env): string {
  const given = env['TBUILD_DAEMON_SOCKET'];
  if (given !== undefined && given !== '') return given;
  // Rootless, this process is root of its user namespace: the socket is its user's, as the launcher finds it.
  const uid = hostUid();
  if (uid === 0) return '/run/tbuild/daemon.sock';
  const runtime = env['XDG_RUNTIME_DIR'];
  return runtime !== undefined && runtime.startsWith('/') ? join(runtime, 'tbuild', 'daemon.sock') : `/tmp/tbuild-${uid}/daemon.sock`;
}

/** ensurePrivateDir creates the socket's folder (0700) and refuses one that others could plant a socket in. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== (process.geteuid?.() ?? 0) || (st.mode & 0o022) !== 0) {
    throw new UsageError(`Cannot use "${dir}" for the resident builder's socket: it must be a folder of this user that others cannot write`);
  }
}

/** SocketState is what answers at a socket path: a live process, a leftover file, or nothing. */
export type SocketState = 'alive' | 'leftover' | 'absent';

/** probeSocket connects to a unix socket path and tells whether someone answers there. */
export function probeSocket(path: string): Promise<SocketState> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('alive');
    });
    socket.once('error', (err) => {
      const code = errnoCode(err);
      if (code === 'ECONNREFUSED') resolve('leftover');
      else if (code === 'ENOENT') resolve('absent');
      else reject(err);
    });
  });
}
