import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { BuilderRecord, BuilderStore, NodeStatus } from '../remote/index.js';
import { builderSpecOf } from './builder-select.js';
import { BUILDER_OPTIONS, type BuilderSubcommand } from './builder-options.js';
import type { CommandIO } from './command-io.js';
import { parseCommandArgs, splitSubcommand } from './command-line.js';
import { alignColumns } from './tab-writer.js';

/** BUILDER_HELP is the text of `tbuild builder --help`. */
export const BUILDER_HELP = `Usage: tbuild builder COMMAND

Manage named builders: groups of tbuild serve servers that builds are spread over (kept in
$XDG_CONFIG_HOME/tbuild/builders/, ~/.config/tbuild/builders/ by default)

Commands:
  create   Create a builder of one or more servers, or add one (--append)
  ls       List builders and their servers
  inspect  Show each server of a builder: reachable or why not, version, platforms and load
  use      Build on a builder when no --builder is given (tbuild builder use embedded: in this process)
  rm       Remove a builder

A build goes to the server its context, Dockerfile and target rank first (rendezvous hashing), so a project keeps
building where its cache is; a server that does not answer is passed over for the next. --builder NAME or
TBUILD_BUILDER selects a builder for one command.
`;

const HELP: Readonly<Record<BuilderSubcommand, string>> = {
  create: `Usage: tbuild builder create NAME --node ADDR [--node ADDR]... [--append] [--use]
                              [--tlscacert FILE] [--tlscert FILE] [--tlskey FILE] [--token-file FILE]

Create a builder of the tbuild serve servers at ADDR: tcp://HOST:PORT, unix:///PATH, or dns+tcp://NAME:PORT (every
address NAME resolves to, A and AAAA, looked up at each use). With --append, add the nodes to an existing builder
(given TLS or token options replace its own). The token file is read at each use; the token is not stored.
`,
  ls: 'Usage: tbuild builder ls [--format table|json]\n\nList builders and their servers, with whether each answers (* marks the builder in use)\n',
  inspect: 'Usage: tbuild builder inspect [NAME] [--format text|json]\n\nShow each server of a builder (default: the one in use): reachable or the error, version, platforms and load\n',
  use: 'Usage: tbuild builder use NAME\n\nBuild on NAME when no --builder, TBUILD_BUILDER or TBUILD_HOST is given; "embedded" builds in this process again\n',
  rm: 'Usage: tbuild builder rm NAME\n\nRemove a builder (the builder in use goes back to the embedded one)\n',
};

function isSubcommand(s: string): s is BuilderSubcommand {
  return Object.hasOwn(BUILDER_OPTIONS, s);
}

/** builderCommand runs `tbuild builder create|ls|inspect|use|rm`. */
export async function builderCommand(args: readonly string[], io: CommandIO): Promise<number> {
  const split = splitSubcommand('builder', args, isSubcommand);
  if (split === undefined) {
    io.stdout.write(BUILDER_HELP);
    return args.includes('--help') || args.includes('-h') ? 0 : 2;
  }
  const { sub, rest } = split;
  const { values, positionals } = parseCommandArgs(`builder ${sub}`, rest, BUILDER_OPTIONS[sub]);
  if (values.help === true) {
    io.stdout.write(HELP[sub]);
    return 0;
  }
  const v: Readonly<Record<string, unknown>> = values;
  const { BuilderStore } = await import('../remote/index.js');
  const store = new BuilderStore(io.env);
  const one = (what: string): string => {
    const [name, ...extra] = positionals;
    if (name === undefined || extra.length > 0) throw new UsageError(`Cannot run tbuild builder ${sub}: expected one ${what}`, { hint: `run 'tbuild builder ${sub} --help'` });
    return name;
  };
  switch (sub) {
    case 'create':
      return createBuilder(store, one('builder name'), v, io);
    case 'ls':
      if (positionals.length > 0) throw new UsageError(`Cannot run tbuild builder ls: unexpected argument "${positionals[0] ?? ''}"`);
      return listBuilders(store, formatOf(v['format'], ['table', 'json']), io);
    case 'inspect': {
      if (positionals.length > 1) throw new UsageError(`Cannot run tbuild builder inspect: expected at most one builder name`);
      const name = positionals[0] ?? (await store.current());
      if (name === undefined) throw new UsageError('Cannot inspect a builder: none is in use', { hint: 'name one: tbuild builder inspect NAME' });
      return inspectBuilder(await store.get(name), formatOf(v['format'], ['text', 'json']), io);
    }
    case 'use': {
      const { EMBEDDED_BUILDER } = await import('../remote/index.js');
      const name = one('builder name');
      await store.use(name === EMBEDDED_BUILDER ? undefined : name);
      return 0;
    }
    case 'rm':
      await store.remove(one('builder name'));
      return 0;
  }
}

function formatOf<const F extends string>(value: unknown, allowed: readonly F[]): F {
  const text = typeof value === 'string' ? value : allowed[0];
  const found = allowed.find((f) => f === text);
  if (found === undefined) throw new UsageError(`Cannot use --format ${String(text)}: expected ${allowed.join(' or ')}`);
  return found;
}

async function checkReadable(path: string, what: string): Promise<string> {
  try {
    await readFile(path);
  } catch (err) {
    throw new UsageError(`Cannot read the ${what} "${path}"`, { cause: err });
  }
  return path;
}

async function createBuilder(store: BuilderStore, name: string, v: Readonly<Record<string, unknown>>, io: CommandIO): Promise<number> {
  const { checkBuilderName, parseNodeAddress } = await import('../remote/index.js');
  checkBuilderName(name);
  const endpoints = Array.isArray(v['node']) ? v['node'].map(String) : [];
  if (endpoints.length === 0) throw new UsageError(`Cannot create builder "${name}": expected at least one --node ADDR`, { hint: 'tcp://HOST:PORT, unix:///PATH or dns+tcp://NAME:PORT' });
  for (const e of endpoints) parseNodeAddress(e);
  const append = v['append'] === true;
  const existing = await store.find(name);
  if (existing !== undefined && !append) throw new UsageError(`Cannot create builder "${name}": it exists`, { hint: 'add nodes to it with --append, or remove it first (tbuild builder rm)' });
  if (existing === undefined && append) throw new UsageError(`Cannot append to builder "${name}": it does not exist`);
  const nodes = [...(existing?.nodes ?? [])];
  for (const endpoint of endpoints) {
    if (nodes.some((n) => n.endpoint === endpoint)) throw new UsageError(`Cannot add node ${endpoint} to builder "${name}": the builder has it`);
    // Nodes are named as buildx names them: the builder's name and a number.
    let i = nodes.length;
    while (nodes.some((n) => n.name === `${name}${i}`)) i++;
    nodes.push({ name: `${name}${i}`, endpoint });
  }
  const path = async (key: string, what: string): Promise<string | undefined> =>
    typeof v[key] === 'string' ? checkReadable(resolve(io.cwd, v[key]), what) : undefined;
  const tls = { ca: await path('tlscacert', 'CA certificate'), cert: await path('tlscert', 'client certificate'), key: await path('tlskey', 'client key') };
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new UsageError('Cannot create a builder with TLS: pass both --tlscert and --tlskey');
  const tokenFile = await path('token-file', 'token file');
  const givenTls = tls.ca !== undefined || tls.cert !== undefined;
  const record: BuilderRecord = {
    name,
    nodes,
    tls: givenTls || existing === undefined ? tls : existing.tls,
    tokenFile: tokenFile ?? existing?.tokenFile,
  };
  await store.save(record);
  if (v['use'] === true) await store.use(name);
  io.stdout.write(`${name}\n`);
  return 0;
}

async function listBuilders(store: BuilderStore, format: 'table' | 'json', io: CommandIO): Promise<number> {
  const { builderStatus } = await import('../remote/lazy.js');
  const current = await store.current();
  const builders = await store.list();
  const signal = AbortSignal.timeout(60_000);
  const rows: { builder: BuilderRecord; nodes: NodeStatus[] }[] = [];
  for (const b of builders) rows.push({ builder: b, nodes: await builderStatus(await builderSpecOf(b, {}, io.env), { signal }) });
  if (format === 'json') {
    for (const r of rows) io.stdout.write(`${JSON.stringify({ name: r.builder.name, current: r.builder.name === current, nodes: r.nodes.map(nodeJson) })}\n`);
    return 0;
  }
  const lines = ['NAME/NODE\tENDPOINT\tSTATUS\tVERSION\tPLATFORMS', `embedded${current === undefined ? ' *' : ''}\tin this process\trunning\t\t`];
  for (const r of rows) {
    lines.push(`${r.builder.name}${r.builder.name === current ? ' *' : ''}\t\t\t\t`);
    for (const n of r.nodes) lines.push(`  ${n.node}\t${n.endpoint}\t${n.info === undefined ? 'error' : 'running'}\t${n.info?.version ?? ''}\t${n.info?.platforms.join(', ') ?? ''}`);
  }
  io.stdout.write(`${alignColumns(lines.join('\n'), 3)}\n`);
  return 0;
}

async function inspectBuilder(b: BuilderRecord, format: 'text' | 'json', io: CommandIO): Promise<number> {
  const { builderStatus } = await import('../remote/lazy.js');
  const nodes = await builderStatus(await builderSpecOf(b, {}, io.env), { signal: AbortSignal.timeout(60_000) });
  if (format === 'json') {
    io.stdout.write(`${JSON.stringify({ name: b.name, nodes: nodes.map(nodeJson) }, null, 2)}\n`);
    return 0;
  }
  const out = [`Name:\t${b.name}`, `Driver:\tremote`, '', 'Nodes:'];
  for (const n of nodes) {
    out.push(`Name:\t${n.node}`, `Endpoint:\t${n.endpoint}`);
    if (n.info === undefined) out.push(`Status:\terror`, `Error:\t${n.error ?? ''}`);
    else {
      const i = n.info;
      out.push('Status:\trunning', `Version:\t${i.version}`, `Platforms:\t${i.platforms.join(', ')}`, `Load:\t${i.running} running, ${i.queued} queued (at most ${i.maxParallelBuilds} at once)`);
    }
    out.push('');
  }
  io.stdout.write(`${alignColumns(out.join('\n'))}\n`);
  return 0;
}

function nodeJson(n: NodeStatus): Record<string, unknown> {
  const i = n.info;
  return i === undefined
    ? { name: n.node, endpoint: n.endpoint, status: 'error', error: n.error }
    : { name: n.node, endpoint: n.endpoint, status: 'running', version: i.version, platforms: i.platforms, running: i.running, queued: i.queued, maxParallelBuilds: i.maxParallelBuilds };
}
