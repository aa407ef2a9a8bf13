import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CancelledError, UsageError } from '../base/errors.js';
import { encodeGoJson, goMap } from '../base/go-json.js';
import type { CreatedIndex } from '../controller/index.js';
import type { ProgressMode } from './build-command.js';
import { dockerConfigDir, settingsFileOf } from './command-io.js';
import { parseCommandArgs } from './command-line.js';
import { IMAGETOOLS_CREATE_OPTIONS, IMAGETOOLS_INSPECT_OPTIONS } from './command-table.js';
import { renderInspection } from './imagetools-output.js';
import { executeTemplate, parseTemplate, rootFields } from './imagetools-template.js';
import { inspectionValue } from './imagetools-view.js';
import { parsePlatformFlag } from './platform-flag.js';
import { createProgress } from './progress/select.js';

const IMAGETOOLS_HELP = `Usage: tbuild imagetools COMMAND

Work on images in a registry, as 'docker buildx imagetools' does. tbuild talks to the
registry itself (registry settings from --config), no builder is involved.

Commands:
  create      Create a new image (an index) based on source images
  inspect     Show details of an image in the registry
`;

const INSPECT_HELP = `Usage: tbuild imagetools inspect [OPTIONS] NAME

Show details of an image in the registry.

Options:
      --raw             Print the manifest or index exactly as the registry serves it
      --format TEMPLATE Format the output (default {{.Manifest}}): text with {{.Name}},
                        {{.Manifest.Digest}}-style fields, {{json .Manifest}}, {{json .Image}},
                        {{json (index .Image "linux/amd64")}}
      --config FILE     Settings file with registry settings (default: /etc/tbuild/tbuild.toml as root)
`;

const CREATE_HELP = `Usage: tbuild imagetools create [OPTIONS] [SOURCE...]

Create a new image based on source images: an index of every image and index entry the sources
name, pushed to each --tag. Sources are references, digests (of the one repository named) or
OCI descriptors as JSON, and must be in the registry already. Within a registry, blobs are mounted
from the source repository, never downloaded.

Options:
  -t, --tag REF                Set reference for new image (repeatable)
  -f, --file FILE              Read a source (reference, digest or descriptor JSON) from a file (repeatable)
      --append                 Append to the index the first tag names
      --dry-run                Print the index instead of pushing it
      --platform PLATFORMS     Keep only these platforms' images (OS/ARCH[/VARIANT], comma-separated or repeated)
      --prefer-index           With a single image source, push an index of it; =false pushes the image's
                               manifest itself (default: true)
      --annotation TYPE:K=V    Annotate the index ("index:K=V") or its entries
                               ("manifest-descriptor[:PLATFORM]:K=V") (repeatable)
      --metadata-file FILE     Write the index's descriptor and name as JSON
      --progress MODE          auto, tty, plain, rawjson, quiet or none (default: auto)
      --config FILE            Settings file with registry settings (default: /etc/tbuild/tbuild.toml as root)
`;

/** WHOLE_MANIFEST is the template buildx prints its human-readable output for (its default). */
const WHOLE_MANIFEST = /^\{\{\s*\.Manifest\s*\}\}$/;

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** imagetoolsCommand runs `tbuild imagetools inspect|create` and returns the exit status. */
export async function imagetoolsCommand(args: readonly string[], cancel: AbortSignal | undefined): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'inspect':
      return await withInterrupt(cancel, (signal) => inspect(rest, signal));
    case 'create':
      return await withInterrupt(cancel, (signal) => create(rest, signal));
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(IMAGETOOLS_HELP);
      return sub === undefined ? 2 : 0;
    default:
      throw new UsageError(`Unknown imagetools command "${sub}"`, { hint: "run 'tbuild imagetools --help' for the list of commands" });
  }
}

async function inspect(args: readonly string[], signal: AbortSignal): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('imagetools inspect', args, IMAGETOOLS_INSPECT_OPTIONS);
  if (v['help'] === true) {
    process.stdout.write(INSPECT_HELP);
    return 0;
  }
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0) throw new UsageError('Cannot inspect: expected exactly one NAME', { hint: 'run "tbuild imagetools inspect NAME"' });
  const format = stringOf(v['format']);
  if (format !== undefined && v['raw'] === true) throw new UsageError('Cannot use --format and --raw together');
  // Parse the template before asking the registry anything: a template tbuild cannot run fails at once.
  const template = format === undefined || WHOLE_MANIFEST.test(format.trim()) ? undefined : parseTemplate(format);
  const fields = template === undefined ? new Set<string>() : rootFields(template);
  const { inspectImage } = await import('../controller/index.js');
  const ins = await inspectImage({ name, withImages: fields.has('Image') || fields.has('*'), ...(await registrySettings(v['config'])) }, { signal });
  // --raw and templates print no newline of their own, as buildx: the raw bytes keep their digest.
  if (v['raw'] === true) process.stdout.write(ins.raw);
  else if (template !== undefined && format !== undefined) process.stdout.write(executeTemplate(template, inspectionValue(ins), format));
  else process.stdout.write(renderInspection(ins));
  return 0;
}

async function create(args: readonly string[], signal: AbortSignal): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('imagetools create', args, IMAGETOOLS_CREATE_OPTIONS);
  if (v['help'] === true) {
    process.stdout.write(CREATE_HELP);
    return 0;
  }
  const progressMode = progressModeOf(stringOf(v['progress']));
  // buildx reads the files' sources first, then the arguments'.
  const files = await Promise.all(listOf(v['file']).map((f) => readFile(f, 'utf8')));
  const dryRun = v['dry-run'] === true;
  const request = {
    tags: listOf(v['tag']),
    sources: [...files, ...positionals],
    append: v['append'] === true,
    dryRun,
    platforms: parsePlatformFlag(listOf(v['platform'])),
    preferIndex: v['prefer-index'] !== false,
    annotations: listOf(v['annotation']),
    ...(await registrySettings(v['config'])),
  };
  const { createImageIndex } = await import('../controller/index.js');
  const progress = await createProgress(dryRun ? 'quiet' : progressMode, process.stderr, { env: process.env, debug: v['debug'] === true });
  let created: CreatedIndex;
  try {
    created = await createImageIndex(request, { signal, progress });
  } finally {
    progress.close();
  }
  if (dryRun) {
    process.stdout.write(Buffer.concat([created.bytes, Buffer.from('\n')]));
    return 0;
  }
  const metadataFile = stringOf(v['metadata-file']);
  if (metadataFile !== undefined) await writeFile(metadataFile, metadataOf(created));
  return 0;
}

/** metadataOf is the --metadata-file document buildx writes: the index descriptor and the tags' repositories. */
function metadataOf(created: CreatedIndex): string {
  const descriptor = { mediaType: created.mediaType, digest: created.digest, size: created.size };
  return encodeGoJson(goMap({ 'containerimage.descriptor': descriptor, 'image.name': created.repositories.join(',') }), '  ');
}

function progressModeOf(value: string | undefined): ProgressMode {
  const modes: readonly ProgressMode[] = ['auto', 'tty', 'plain', 'rawjson', 'quiet'];
  if (value === undefined) return 'auto';
  if (value === 'none') return 'quiet';
  const mode = modes.find((m) => m === value);
  if (mode === undefined) throw new UsageError(`Cannot use --progress=${value}: expected ${modes.join(', ')} or none`);
  return mode;
}

/** withInterrupt runs a command that SIGINT or SIGTERM (or the caller's signal) cancels. */
async function withInterrupt(cancel: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new CancelledError('Cancelled'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  cancel?.addEventListener('abort', onSignal);
  if (cancel?.aborted === true) onSignal();
  try {
    return await fn(abort.signal);
  } catch (err) {
    if (abort.signal.aborted) throw new CancelledError('Cancelled', { cause: err });
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cancel?.removeEventListener('abort', onSignal);
  }
}

function stringOf(value: Values[string]): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function listOf(value: Values[string]): string[] {
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}

/** registrySettings are the settings file (--config, else the user's default) and Docker config of the caller. */
async function registrySettings(config: Values[string]): Promise<{ registryConfigPath?: string; dockerConfigDir: string }> {
  const given = stringOf(config);
  const file = await settingsFileOf(process.env, given === undefined ? undefined : resolve(given));
  return { ...(file === undefined ? {} : { registryConfigPath: file }), dockerConfigDir: dockerConfigDir(process.env) };
}
