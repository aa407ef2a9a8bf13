import type { ProgressSink } from '../../base/progress.js';
import type { ProgressMode } from '../build-command.js';

/** createProgress makes the progress display of a mode: auto is tty on a terminal, else plain; quiet shows nothing. */
export async function createProgress(mode: ProgressMode): Promise<ProgressSink & { close(): void }> {
  const tty = process.stderr.isTTY;
  if (mode === 'quiet') return { emit: () => undefined, close: () => undefined };
  if (mode === 'rawjson') return (await import('./json.js')).createJsonProgress(process.stderr);
  if (mode === 'tty' || (mode === 'auto' && tty)) return (await import('./tty.js')).createTtyProgress(process.stderr);
  return (await import('./plain.js')).createPlainProgress(process.stderr);
}
