import type { ProgressSink } from '../../base/progress.js';
import type { ProgressMode } from '../build-command.js';
import type { TerminalStream } from '../command-io.js';
import { colourWarnings, type ViewOptions } from './style.js';

/**
 * createProgress makes the progress display of a mode on a command's stderr: auto is tty on a terminal, else plain;
 * quiet and none show nothing; rawjson is BuildKit's SolveStatus stream, json tbuild's own events.
 */
export async function createProgress(mode: ProgressMode, out: TerminalStream, options: ViewOptions): Promise<ProgressSink & { close(): void }> {
  if (mode === 'quiet' || mode === 'none') return { emit: () => undefined, close: () => undefined };
  if (mode === 'json') return (await import('./json.js')).createJsonProgress(out);
  if (mode === 'rawjson') return (await import('./rawjson.js')).createRawJsonProgress(out, { sources: options.sources ?? new Map() });
  // What BUILDKIT_COLORS could not set is said once, above a view whose colours it changes.
  if (out.isTTY === true) out.write(colourWarnings(options.env));
  if (mode === 'tty' || (mode === 'auto' && out.isTTY === true)) return (await import('./tty.js')).createTtyProgress(out, options);
  return (await import('./plain.js')).createPlainProgress(out, options);
}
