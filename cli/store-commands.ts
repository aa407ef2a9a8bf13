import { open as openFile, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CancelledError, UsageError } from '../base/errors.js';
import { encodeGoJson, type GoJsonValue } from '../base/go-json.js';
import type { Controller, InspectedImage } from '../controller/index.js';
import { PROGRESS_MODES } from './build-command.js';
import { dockerConfigDir, type CommandIO } from './command-io.js';
import { parseCommandArgs, type ParsedArgs } from './command-line.js';
import { INSPECT_OPTIONS, LOAD_OPTIONS, PUSH_OPTIONS, SAVE_OPTIONS, TAG_OPTIONS } from './command-table.js';
import { familiarName } from './images-command.js';
import { executeTemplate, parseTemplate } from './imagetools-template.js';
import type { Shape, TemplateValue } from './imagetools-view.js';
import { createProgress } from './progress/select.js';

/** STORE_HELP is the help of each local image store command. */
export const STORE_HELP = {
  tag: `Usage: tbuild tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG] [--root DIR]

Give an image of the local image store (by name or ID) another name.
`,
  push: `Usage: tbuild push [OPTIONS] NAME[:TAG] [--root DIR]

Push an image of the local image store to the registry its name says (an image of several platforms
as its image index). Layers are compressed (gzip) on the way, as the Docker Engine pushes; the
image ID stays. Prints NAME@DIGEST.

Options:
      --config FILE     Settings file with registry settings (default: /etc/tbuild/tbuild.toml as root)
      --progress MODE   auto, tty, plain, rawjson or quiet (default: auto)
  -q, --quiet           Same as --progress quiet
`,
  save: `Usage: tbuild save [-o FILE] IMAGE [IMAGE...] [--root DIR]

Write images of the local image store to one archive that 'docker load' reads: manifest.json with
an entry per image, and an OCI image layout (index.json, blobs/) as Docker 25 writes. Layers are
written uncompressed, as docker save writes them, so every manifest and index keeps its digest (an
image loaded back has the same ID). An image named by a name carries it; one named by its ID none.
Of an image of several platforms, docker load reads the host's platform; index.json names the index.

Options:
  -o, --output FILE     Write to a file instead of standard output
`,
  load: `Usage: tbuild load [-i FILE] [-q] [--root DIR]

Read images from a docker save archive or an OCI image archive, plain or gzip-compressed (from a file
or standard input), into the local image store.

Options:
  -i, --input FILE      Read from a file instead of standard input
  -q, --quiet           Print nothing
`,
  inspect: `Usage: tbuild inspect [--format TEMPLATE] IMAGE [IMAGE...] [--root DIR]

Describe images of the local image store as JSON, as 'docker image inspect' does (Id, RepoTags,
RepoDigests (where the image was pushed), Created, Architecture, Os, Size, Config, RootFS), with their
Descriptor, Manifest (or index), Image config and History.

Options:
  -f, --format TEMPLATE Format each image with a Go template: {{.Id}}, {{.Config.Env}} fields,
                        {{json .Config}}, {{index .Config.Labels "KEY"}}
`,
} as const;

/** StoreCommand is a command of the local image store. */
export type StoreCommand = keyof typeof STORE_HELP;

/** OpenController opens the controller of a --root (default: the caller's). */
export type OpenController = (root: string | undefined) => Promise<Controller & AsyncDisposable>;

/** storeCommand runs `tbuild tag|push|save|load|inspect` against the local image store of --root. */
export async function storeCommand(command: StoreCommand, args: readonly string[], io: CommandIO, open: OpenController): Promise<number> {
  switch (command) {
    case 'tag': {
      const { values, positionals } = parseCommandArgs('tag', args, TAG_OPTIONS);
      if (values.help === true) return help(command, io);
      const [source, target, ...extra] = positionals;
      if (source === undefined || target === undefined || extra.length > 0) throw new UsageError('Cannot tag: expected SOURCE_IMAGE and TARGET_IMAGE', { hint: 'tbuild tag SOURCE TARGET' });
      await using controller = await open(values.root);
      await controller.localImages.tag(source, target);
      return 0;
    }
    case 'push':
      return push(parseCommandArgs('push', args, PUSH_OPTIONS), io, open);
    case 'save': {
      const { values, positionals } = parseCommandArgs('save', args, SAVE_OPTIONS);
      if (values.help === true) return help(command, io);
      if (values.output === undefined && io.stdout.isTTY === true) throw new UsageError('Cannot write the archive to a terminal', { hint: 'use -o FILE or redirect the output' });
      const dest = values.output === undefined ? io.stdout : resolve(io.cwd, values.output);
      await using controller = await open(values.root);
      await withInterrupt(io, (signal) => controller.localImages.save(positionals, dest, { signal }));
      return 0;
    }
    case 'load': {
      const { values } = parseCommandArgs('load', args, LOAD_OPTIONS, { positionals: false });
      if (values.help === true) return help(command, io);
      await using file = values.input === undefined ? undefined : await openInput(resolve(io.cwd, values.input));
      await using controller = await open(values.root);
      const input = file === undefined ? io.stdin : file.createReadStream({ autoClose: false });
      const loaded = await withInterrupt(io, (signal) => controller.localImages.load(input, { signal }));
      if (values.quiet !== true) {
        for (const image of loaded) io.stdout.write(image.names.length === 0 ? `Loaded image ID: ${image.id}\n` : image.names.map((n) => `Loaded image: ${familiarName(n)}\n`).join(''));
      }
      return 0;
    }
    case 'inspect': {
      const { values, positionals } = parseCommandArgs('inspect', args, INSPECT_OPTIONS);
      if (values.help === true) return help(command, io);
      if (positionals.length === 0) throw new UsageError('Cannot inspect: name at least one image', { hint: 'tbuild inspect IMAGE [IMAGE...]' });
      const template = values.format === undefined ? undefined : parseTemplate(values.format);
      await using controller = await open(values.root);
      const images = await controller.localImages.inspect(positionals);
      if (template === undefined || values.format === undefined) io.stdout.write(`${encodeGoJson(images.map(inspectedJson), '    ')}\n`);
      else for (const image of images) io.stdout.write(`${executeTemplate(template, templateValue(inspectedJson(image)), values.format, '')}\n`);
      return 0;
    }
  }
}

/** openInput opens the archive `load -i` names, failing as a usage error when it cannot be read. */
async function openInput(path: string): Promise<FileHandle> {
  try {
    return await openFile(path, 'r');
  } catch (err) {
    throw new UsageError(`Cannot read "${path}": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function help(command: StoreCommand, io: CommandIO): number {
  io.stdout.write(STORE_HELP[command]);
  return 0;
}

async function push({ values, positionals }: ParsedArgs<typeof PUSH_OPTIONS>, io: CommandIO, open: OpenController): Promise<number> {
  if (values.help === true) return help('push', io);
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0) throw new UsageError('Cannot push: expected exactly one NAME[:TAG]', { hint: 'tbuild push NAME[:TAG]' });
  const mode = values.quiet === true ? 'quiet' : (values.progress ?? 'auto');
  const progressMode = PROGRESS_MODES.find((m) => m === mode);
  if (progressMode === undefined) throw new UsageError(`Cannot use --progress=${mode}: expected ${PROGRESS_MODES.join(', ')}`);
  await using controller = await open(values.root);
  const progress = await createProgress(progressMode, io.stderr, { env: io.env, debug: values.debug === true });
  try {
    const request = { name, dockerConfigDir: dockerConfigDir(io.env), ...(values.config === undefined ? {} : { registryConfigPath: resolve(io.cwd, values.config) }) };
    const digest = await withInterrupt(io, (signal) => controller.localImages.push(request, { signal, progress }));
    progress.close();
    io.stdout.write(`${name}@${digest}\n`);
  } finally {
    progress.close();
  }
  return 0;
}

async function withInterrupt<T>(io: CommandIO, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  using _interrupt = io.onInterrupt(() => abort.abort(new CancelledError('Cancelled')));
  try {
    return await fn(abort.signal);
  } catch (err) {
    if (abort.signal.aborted) throw new CancelledError('Cancelled', { cause: err });
    throw err;
  }
}

/** inspectedJson is an inspected image as Go JSON: Docker's maps (labels, ports, volumes, annotations) sorted. */
function inspectedJson(image: InspectedImage): GoJsonValue {
  return toGo(image, '');
}

/** MAP_FIELDS are the fields Go holds as maps: templates index them, JSON sorts their keys. */
const MAP_FIELDS = new Set(['Labels', 'ExposedPorts', 'Volumes', 'annotations']);

function toGo(value: unknown, key: string): GoJsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v) => toGo(v, ''));
  if (typeof value !== 'object') return null;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (MAP_FIELDS.has(key)) return new Map(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, toGo(v, '')]));
  return Object.fromEntries(entries.map(([k, v]) => [k, toGo(v, k)]));
}

/** templateValue gives a JSON document the Go types its keys name, so `{{.Config.Env}}` reads as Docker's templates do. */
function templateValue(json: GoJsonValue): TemplateValue {
  return { shape: shapeOf(json), json };
}

function shapeOf(json: GoJsonValue | undefined): Shape {
  if (typeof json === 'string' || json === null || json === undefined) return { kind: 'string' };
  if (typeof json === 'number') return { kind: 'int' };
  if (typeof json === 'boolean') return { kind: 'bool' };
  if (json instanceof Map) return { kind: 'map', value: shapeOf([...json.values()][0]) };
  if (Array.isArray(json)) return { kind: 'list', item: shapeOf(json[0]) };
  const fields: Record<string, readonly [string, Shape]> = {};
  for (const [k, v] of Object.entries(json)) fields[k] = [k, shapeOf(v)];
  return { kind: 'struct', type: 'image.inspect', fields };
}
