import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { HistoryRecord } from '../base/build-record.js';
import { UsageError } from '../base/errors.js';
import type { CommandIO } from './command-io.js';
import type { HistorySource } from './history-source.js';
import { traceHtml } from './history-trace-html.js';
import { chromeTrace, otlpTrace } from './history-trace.js';

/** TRACE_FORMATS are what `tbuild history trace --format` writes. */
export const TRACE_FORMATS = ['html', 'chrome', 'otlp'] as const;
/** TraceFormat is one of TRACE_FORMATS. */
export type TraceFormat = (typeof TRACE_FORMATS)[number];

/** traceFormatOf picks the format: the one asked for, else html for an .html file, else chrome. */
export function traceFormatOf(format: string | undefined, output: string | undefined): TraceFormat {
  if (format === undefined) return output !== undefined && /\.html?$/i.test(output) ? 'html' : 'chrome';
  const found = TRACE_FORMATS.find((f) => f === format);
  if (found === undefined) throw new UsageError(`Cannot use --format ${format}: expected ${TRACE_FORMATS.join(', ')}`);
  return found;
}

/** stepLogs gathers a record's output by step, as its steps wrote it. */
async function stepLogs(h: HistorySource, record: HistoryRecord, signal: AbortSignal): Promise<Map<number, Buffer>> {
  const chunks = new Map<number, Buffer[]>();
  for (const f of await h.logs(record, undefined, signal)) {
    const list = chunks.get(f.step) ?? [];
    list.push(f.data);
    chunks.set(f.step, list);
  }
  return new Map([...chunks].map(([step, list]) => [step, Buffer.concat(list)]));
}

/** writeTrace writes the trace of a finished record in a format, to a file or (no file, or '-') standard output. */
export async function writeTrace(h: HistorySource, record: HistoryRecord, options: { readonly format: TraceFormat; readonly output: string | undefined; readonly io: CommandIO; readonly signal: AbortSignal }): Promise<void> {
  // As buildx's: a build still running has no trace yet (an interrupted one is traced up to where it stopped).
  if (record.status === 'running') throw new UsageError(`Cannot trace build ${record.ref}: it is still running`, { hint: 'trace it once it has ended' });
  let text: string;
  switch (options.format) {
    case 'chrome':
      text = `${JSON.stringify(chromeTrace(record))}\n`;
      break;
    case 'otlp':
      text = `${JSON.stringify(otlpTrace(record))}\n`;
      break;
    case 'html':
      text = traceHtml(record, await stepLogs(h, record, options.signal));
      break;
  }
  const { output, io } = options;
  if (output === undefined || output === '-') io.stdout.write(text);
  else await writeFile(resolve(io.cwd, output), text, { signal: options.signal });
}
