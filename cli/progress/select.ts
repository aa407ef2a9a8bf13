import type { ProgressSink } from '../../base/progress.js';
import type { ProgressMode } from '../build-command.js';
import type { TerminalStream } from '../command-io.js';
import type { ViewOptions } from './style.js';

/**
 * createProgress makes the progress display of a mode on a command's stderr: auto is tty on a terminal, else plain;
 * quiet shows nothing.
 */
export async function createProgress(mode: ProgressMode, out: TerminalStream, options: ViewOptions): Promise<ProgressSink & { close(): void }> {
  if (mode === 'quiet') return { emit: () => undefined, close: () => undefined };
  if (mode === 'rawjson') return (await import('./json.js')).createJsonProgress(out);
  if (mode === 'tty' || (mode === 'auto' && out.isTTY === true)) return (await import('./tty.js')).createTtyProgress(out, options);
  return (await import('./plain.js')).createPlainProgress(out, options);
}
