import { connect } from 'node:net';
import { resolve } from 'node:path';
import { UsageError, errnoCode } from '../base/errors.js';
import { parseCommandArgs } from './command-line.js';
import { DAEMON_OPTIONS } from './command-table.js';
import { FRAME, encodeFrame } from './daemon-frames.js';
import { runResident, type RunCommand } from './daemon-resident.js';
import { defaultDaemonSocket } from './daemon-socket.js';

const DAEMON_HELP = `Usage: tbuild daemon [--socket PATH] [--idle SECONDS]
       tbuild daemon stop [--socket PATH]

Run the resident builder that the tbuild launcher (native/build/tbuild) forwards builds to, so a
build does not pay for starting Node. The launcher starts it on demand: there is no need to run it
by hand. It serves several clients' builds at once, keeping each state folder open between them
(identical steps of concurrent builds run once), and exits when idle, when the code on disk changes
(npm run build), on SIGINT/SIGTERM or on 'tbuild daemon stop'. TBUILD_DAEMON=0 turns it off.

Options:
  --socket PATH    Unix socket (default: $TBUILD_DAEMON_SOCKET, /run/tbuild/daemon.sock as root,
                   else $XDG_RUNTIME_DIR/tbuild/daemon.sock or /tmp/tbuild-UID/daemon.sock)
  --idle SECONDS   Exit after this long without a build (default: $TBUILD_DAEMON_IDLE or 600)
`;

const DEFAULT_IDLE_SECONDS = 600;

function idleSeconds(value: string | undefined): number {
  const raw = value ?? process.env['TBUILD_DAEMON_IDLE'];
  if (raw === undefined || raw === '') return DEFAULT_IDLE_SECONDS;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`Cannot use --idle=${raw}: expected a number of seconds above 0`);
  return n;
}

/** stopDaemon asks the resident builder at a socket to exit once its running build is done. */
function stopDaemon(socket: string): Promise<number> {
  return new Promise((done, reject) => {
    const conn = connect(socket, () => conn.write(encodeFrame(FRAME.quit)));
    conn.on('data', () => undefined);
    conn.once('close', () => done(0));
    conn.once('error', (err) => {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') return reject(err);
      process.stderr.write(`No resident builder answers at ${socket}\n`);
      done(0);
    });
  });
}

/** daemonCommand runs `tbuild daemon` (the resident builder) or `tbuild daemon stop`. */
export async function daemonCommand(args: readonly string[], run: RunCommand): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('daemon', args, DAEMON_OPTIONS);
  if (v.help === true) {
    process.stdout.write(DAEMON_HELP);
    return 0;
  }
  const socket = v.socket === undefined ? defaultDaemonSocket() : resolve(v.socket);
  const [sub, ...extra] = positionals;
  if (extra.length > 0 || (sub !== undefined && sub !== 'stop')) throw new UsageError(`Cannot run "tbuild daemon ${positionals.join(' ')}": expected "tbuild daemon [stop]"`);
  if (sub === 'stop') return stopDaemon(socket);
  return runResident({ socket, idleMs: idleSeconds(v.idle) * 1000, run });
}
