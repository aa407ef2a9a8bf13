import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { InternalError } from '../base/errors.js';
import { isRootless } from '../base/user-namespace.js';
import { openNewNetworkNamespace } from '../native/index.js';
import { holdChild, waitForClose } from './child-process.js';

/** How long the holder of a rootless namespace may take to quit once told to, before it is killed. */
const HOLDER_GRACE_MS = 2000;

/** NetworkNamespace is a new, empty network namespace a RUN's network is made in. */
export interface NetworkNamespace {
  /** Its path: join it with setns, or name it as a runtime spec's network namespace path. */
  readonly nsPath: string;
  /** made settles once the namespace exists at nsPath (undefined: it exists); it rejects when it could not be made. */
  readonly made: Promise<void> | undefined;
  /** hold makes this process wait for what keeps the namespace before it exits (true), or not (false). */
  hold(keep: boolean): void;
  /** close lets the namespace go (a process still in it keeps it until it ends). */
  close(): Promise<void>;
}

/**
 * openNetworkNamespace makes a network namespace: as root, this process's thread enters a new one and goes back,
 * keeping a descriptor (see openNewNetworkNamespace). Rootless it cannot go back, since the host's user namespace owns
 * the network namespace it came from: a child process makes the new one and holds it instead.
 */
export function openNetworkNamespace(): NetworkNamespace {
  if (isRootless()) return holdNetworkNamespace();
  const fd = openNewNetworkNamespace();
  return { nsPath: `/proc/${process.pid}/fd/${fd}`, made: undefined, hold: () => undefined, close: () => Promise.resolve(closeSync(fd)) };
}

/**
 * holdNetworkNamespace starts a child in a new network namespace that says so on its stdout and then waits for its
 * stdin to end: the namespace is /proc/CHILD/ns/net while the child lives, and it goes when this process closes the
 * pipe, or ends however it ends.
 */
function holdNetworkNamespace(): NetworkNamespace {
  const child = spawn('unshare', ['--net', '--', 'sh', '-c', 'echo made && exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new InternalError('Cannot start the holder of a network namespace: unshare did not start');
  const stderr: Buffer[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b));
  const closed = waitForClose(child);
  const made = new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    closed.then(
      (exit) => reject(new Error(`unshare --net ended (${exit.code ?? exit.signal}): ${Buffer.concat(stderr).toString('utf8').trim()}`)),
      reject,
    );
  });
  made.catch(() => undefined);
  let closing: Promise<void> | undefined;
  return {
    nsPath: `/proc/${child.pid}/ns/net`,
    made,
    hold: (keep) => holdChild(child, keep, [0, 1, 2]),
    close: () =>
      (closing ??= (async () => {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), HOLDER_GRACE_MS);
        try {
          await closed.catch(() => undefined);
        } finally {
          clearTimeout(timer);
        }
      })()),
  };
}
