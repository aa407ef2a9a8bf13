import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, UsageError, errnoCode } from '../base/errors.js';
import { parseNodeAddress } from './address.js';
import type { TlsFiles } from './auth.js';
import { configHome, writeFileAtomic, type ClientEnv } from './client-state.js';

/** BuilderNode is one server of a named builder: its name and its address (tcp://, unix:// or dns+tcp://). */
export interface BuilderNode {
  readonly name: string;
  readonly endpoint: string;
}

/** BuilderRecord is a named builder as `tbuild builder create` stores it: its nodes and how to reach them. */
export interface BuilderRecord {
  readonly name: string;
  readonly nodes: readonly BuilderNode[];
  readonly tls: TlsFiles;
  /** A file holding the bearer token, read at each use (the token itself is never stored). */
  readonly tokenFile: string | undefined;
}

/** EMBEDDED_BUILDER names the builder in this process: `tbuild builder use embedded` goes back to it. */
export const EMBEDDED_BUILDER = 'embedded';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/** checkBuilderName refuses a name that cannot be a builder's (it is a file name, and `embedded` is taken). */
export function checkBuilderName(name: string): string {
  if (!NAME.test(name)) throw new UsageError(`Cannot use builder name "${name}": expected letters, digits, "_", "." and "-", starting with a letter or digit`);
  if (name === EMBEDDED_BUILDER) throw new UsageError(`Cannot use builder name "${name}": it names the builder in this process`);
  return name;
}

function buildersDir(env: ClientEnv): string {
  return join(configHome(env), 'tbuild', 'builders');
}

function currentPath(env: ClientEnv): string {
  return join(configHome(env), 'tbuild', 'current-builder');
}

/** BuilderStore keeps named builders, one JSON file each, in the client's settings folder. */
export class BuilderStore {
  readonly dir: string;
  readonly #env: ClientEnv;

  constructor(env: ClientEnv) {
    this.#env = env;
    this.dir = buildersDir(env);
  }

  /** list returns every stored builder, sorted by name. */
  async list(): Promise<BuilderRecord[]> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
    const names = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).filter((n) => NAME.test(n)).sort();
    return Promise.all(names.map(async (n) => this.#read(n)));
  }

  /** find returns a stored builder, or undefined when there is none of that name. */
  async find(name: string): Promise<BuilderRecord | undefined> {
    if (!NAME.test(name)) return undefined;
    try {
      return await this.#read(name);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** get returns a stored builder, or fails naming the builders there are. */
  async get(name: string): Promise<BuilderRecord> {
    const found = await this.find(name);
    if (found !== undefined) return found;
    const known = (await this.list()).map((b) => b.name);
    throw new UsageError(`Cannot find builder "${name}": ${known.length === 0 ? 'no builders are defined' : `known builders: ${known.join(', ')}`}`, {
      hint: 'create one with tbuild builder create NAME --node ADDR, or give an address (tcp://HOST:PORT, unix:///PATH, dns+tcp://NAME:PORT)',
    });
  }

  /** save writes a builder atomically; 0600 when it names a token file or TLS material. */
  async save(b: BuilderRecord): Promise<void> {
    const secret = b.tokenFile !== undefined || b.tls.ca !== undefined || b.tls.cert !== undefined || b.tls.key !== undefined;
    const body = { name: b.name, nodes: b.nodes, tls: { ca: b.tls.ca, cert: b.tls.cert, key: b.tls.key }, tokenFile: b.tokenFile };
    await writeFileAtomic(join(this.dir, `${b.name}.json`), `${JSON.stringify(body, null, 2)}\n`, secret ? 0o600 : 0o644);
  }

  /** remove deletes a builder; the current builder, when it was this one, goes back to the embedded builder. */
  async remove(name: string): Promise<void> {
    await this.get(name);
    await rm(join(this.dir, `${name}.json`));
    if ((await this.current()) === name) await rm(currentPath(this.#env), { force: true });
  }

  /** current names the builder `tbuild builder use` chose, or undefined for the embedded one. */
  async current(): Promise<string | undefined> {
    try {
      const name = (await readFile(currentPath(this.#env), 'utf8')).trim();
      return name === '' || name === EMBEDDED_BUILDER ? undefined : name;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** use makes a builder the one commands build on without --builder (undefined: the embedded builder). */
  async use(name: string | undefined): Promise<void> {
    if (name === undefined) {
      await rm(currentPath(this.#env), { force: true });
      return;
    }
    await this.get(name);
    await writeFileAtomic(currentPath(this.#env), `${name}\n`);
  }

  async #read(name: string): Promise<BuilderRecord> {
    const path = join(this.dir, `${name}.json`);
    return builderRecordOf(JSON.parse(await readFile(path, 'utf8')), path);
  }
}

function str(v: unknown, what: string, path: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  throw new ConfigError(`Cannot read builder file ${path}: ${what} is not a string`);
}

/** builderRecordOf checks a stored builder file. */
function builderRecordOf(v: unknown, path: string): BuilderRecord {
  if (typeof v !== 'object' || v === null || !('name' in v) || !('nodes' in v) || !Array.isArray(v.nodes)) {
    throw new ConfigError(`Cannot read builder file ${path}: expected {name, nodes}`);
  }
  const nodes = v.nodes.map((n: unknown, i: number): BuilderNode => {
    if (typeof n !== 'object' || n === null || !('name' in n) || !('endpoint' in n) || typeof n.name !== 'string' || typeof n.endpoint !== 'string') {
      throw new ConfigError(`Cannot read builder file ${path}: node ${i} needs a name and an endpoint`);
    }
    try {
      parseNodeAddress(n.endpoint);
    } catch (err) {
      throw new ConfigError(`Cannot read builder file ${path}: node ${n.name} has a bad address`, { cause: err });
    }
    return { name: n.name, endpoint: n.endpoint };
  });
  const tls: Record<string, unknown> = 'tls' in v && typeof v.tls === 'object' && v.tls !== null ? { ...v.tls } : {};
  return {
    name: str(v.name, 'name', path) ?? '',
    nodes,
    tls: { ca: str(tls['ca'], 'tls.ca', path), cert: str(tls['cert'], 'tls.cert', path), key: str(tls['key'], 'tls.key', path) },
    tokenFile: str('tokenFile' in v ? v.tokenFile : undefined, 'tokenFile', path),
  };
}
