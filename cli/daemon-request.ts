import { InternalError } from '../base/errors.js';

/** ClientStream is what the launcher reported about one of its output streams. */
export interface ClientStream {
  readonly tty: boolean;
  readonly columns: number;
  readonly rows: number;
}

/** DaemonRequest is one build forwarded by the launcher: the command line and the process facts it runs with. */
export interface DaemonRequest {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly umask: number;
  /** The checkout and node binary the launcher would run directly; a different pair makes this daemon stale. */
  readonly repo: string;
  readonly node: string;
  readonly stdout: ClientStream;
  readonly stderr: ClientStream;
}

function fail(what: string): never {
  throw new InternalError(`Cannot read the launcher's request: ${what}`);
}

function field(obj: object, key: string): unknown {
  return Object.getOwnPropertyDescriptor(obj, key)?.value;
}

function text(obj: object, key: string): string {
  const v = field(obj, key);
  return typeof v === 'string' ? v : fail(`"${key}" is not a string`);
}

function count(obj: object, key: string): number {
  const v = field(obj, key);
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fail(`"${key}" is not a whole number`);
}

function texts(obj: object, key: string): string[] {
  const v = field(obj, key);
  return Array.isArray(v) && v.every((s): s is string => typeof s === 'string') ? v : fail(`"${key}" is not a list of strings`);
}

function stream(obj: object, key: string): ClientStream {
  const v = field(obj, key);
  if (typeof v !== 'object' || v === null) fail(`"${key}" is not an object`);
  return { tty: field(v, 'tty') === true, columns: count(v, 'columns'), rows: count(v, 'rows') };
}

/** environment turns `K=V` entries into a record; the first entry of a name wins, as getenv does. */
function environment(entries: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue; // not a variable (libc keeps such entries; Node's process.env drops them too)
    const name = entry.slice(0, eq);
    if (!Object.hasOwn(env, name)) env[name] = entry.slice(eq + 1);
  }
  return env;
}

/** parseDaemonRequest reads the launcher's JSON request. */
export function parseDaemonRequest(payload: Buffer): DaemonRequest {
  const raw: unknown = JSON.parse(payload.toString('utf8'));
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  if (field(raw, 'v') !== 1) fail(`unknown version ${JSON.stringify(field(raw, 'v'))}`);
  return {
    argv: texts(raw, 'argv'),
    cwd: text(raw, 'cwd'),
    env: environment(texts(raw, 'env')),
    umask: count(raw, 'umask'),
    repo: text(raw, 'repo'),
    node: text(raw, 'node'),
    stdout: stream(raw, 'stdout'),
    stderr: stream(raw, 'stderr'),
  };
}
