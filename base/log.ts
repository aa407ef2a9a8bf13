/** LogFields are the structured fields of one log record. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Logger writes operator logs of a long-running tbuild process (the remote builder, the resident builder). */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** LogFormat is how log records are written: `key=value` text or one JSON object per line. */
export type LogFormat = 'text' | 'json';

/** createLogger writes records to a stream in the given format. */
export function createLogger(out: NodeJS.WritableStream, format: LogFormat): Logger {
  const write = (level: string, message: string, fields: LogFields = {}): void => {
    const time = new Date().toISOString();
    const defined = Object.entries(fields).filter(([, v]) => v !== undefined);
    if (format === 'json') {
      out.write(`${JSON.stringify({ time, level, msg: message, ...Object.fromEntries(defined) })}\n`);
      return;
    }
    const extra = defined.map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)}`);
    out.write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra.length > 0 ? ` ${extra.join(' ')}` : ''}\n`);
  };
  return {
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}
