import { UsageError } from '../base/errors.js';
import type { Controller, ImageSummary } from '../controller/index.js';
import { dockerTable, rowTemplate, type TableRow } from './docker-table.js';
import type { ParsedArgs } from './command-line.js';
import type { IMAGES_OPTIONS } from './command-table.js';
import { formatAgo } from './human-duration.js';

/** IMAGES_HELP is the text of `tbuild images --help`. */
export const IMAGES_HELP = `Usage: tbuild images [OPTIONS] [REPOSITORY[:TAG]] [--root DIR]

List the images in the local image store, newest first (by when each image was made, as its config
says: CREATED, as docker images shows it). An image without a name (built with no
tag, or whose tag a later build took) is listed as <none> and can be named by its ID. The ID of an
image is the digest of its config; of an image of several platforms, the digest of its image index
(as Docker's containerd image store names images).

Options:
  -f, --filter FILTER   dangling=true|false, reference=PATTERN (a name, * and ? match within a
                        path component), label=KEY[=VALUE], before=IMAGE, since=IMAGE; repeatable:
                        references any, the rest all
      --format FORMAT   table, json, "table TEMPLATE" or a Go template over .ID, .Repository, .Tag,
                        .Digest, .CreatedSince, .CreatedAt, .Size
      --no-trunc        Show whole image IDs
  -q, --quiet           Print only the image IDs
`;

/** ImageFilter is what `tbuild images --filter` and a REPOSITORY[:TAG] argument keep. */
export interface ImageFilter {
  readonly dangling?: boolean;
  /** Patterns a name must match one of (Docker's reference filter). */
  readonly references: readonly string[];
  /** `KEY` or `KEY=VALUE` labels an image must all have. */
  readonly labels: readonly string[];
  /** Images (by name or ID) the listed ones must be made before or after (Docker's before= and since=). */
  readonly before?: string;
  readonly since?: string;
}

/** parseImageFilters reads `--filter KEY=VALUE` values as `docker images` does, refusing filters tbuild cannot apply. */
export function parseImageFilters(values: readonly string[]): ImageFilter {
  let dangling: boolean | undefined;
  const references: string[] = [];
  const labels: string[] = [];
  const around: { before?: string; since?: string } = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const [key, v] = eq < 0 ? [value, ''] : [value.slice(0, eq).trim().toLowerCase(), value.slice(eq + 1)];
    if (key === 'dangling') {
      if (!['true', 'false', '1', '0'].includes(v.toLowerCase())) throw new UsageError(`Invalid filter 'dangling=${v}'`, { hint: 'expected dangling=true or dangling=false' });
      const wanted = v.toLowerCase() === 'true' || v === '1';
      if (dangling !== undefined && dangling !== wanted) throw new UsageError("Invalid filter 'dangling': given both true and false");
      dangling = wanted;
    } else if (key === 'reference') {
      references.push(v);
    } else if (key === 'label') {
      labels.push(v);
    } else if (key === 'before' || key === 'since') {
      around[key] = v;
    } else {
      throw new UsageError(`Invalid filter '${key}'`, { hint: 'tbuild images filters by dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE and since=IMAGE' });
    }
  }
  return { references, labels, ...around, ...(dangling === undefined ? {} : { dangling }) };
}

/** familiarName is a full name as Docker shows it: docker.io/library/x:1 → x:1, docker.io/team/x → team/x. */
export function familiarName(name: string): string {
  return name.replace(/^docker\.io\/(library\/)?/, '');
}

/** splitName splits a familiar name into its repository and tag. */
function splitName(name: string): { repository: string; tag: string } {
  const at = name.lastIndexOf(':');
  return at > name.lastIndexOf('/') ? { repository: name.slice(0, at), tag: name.slice(at + 1) } : { repository: name, tag: '<none>' };
}

/**
 * matchesReference tells whether a name matches a pattern as Docker's reference filter does (Go's path.Match over the
 * familiar name, then over the familiar name without its tag).
 */
export function matchesReference(pattern: string, name: string): boolean {
  const re = globRegExp(pattern);
  const familiar = familiarName(name);
  return re.test(familiar) || re.test(splitName(familiar).repository);
}

function globRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) out += escapeRe(pattern[++i] ?? '');
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new UsageError(`Invalid filter 'reference=${pattern}': syntax error in pattern`);
      const body = pattern.slice(i + 1, end);
      out += `[${body.startsWith('^') ? `^/${body.slice(1)}` : body.replaceAll('\\', '\\\\')}]`;
      i = end;
    } else out += escapeRe(c);
  }
  return new RegExp(`^${out}$`);
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** filterImages keeps the images a filter selects. */
export function filterImages(images: readonly ImageSummary[], filter: ImageFilter): ImageSummary[] {
  const before = filter.before === undefined ? undefined : createdOf(images, filter.before);
  const since = filter.since === undefined ? undefined : createdOf(images, filter.since);
  return images.filter((image) => {
    if (filter.dangling !== undefined && (image.name === undefined) !== filter.dangling) return false;
    if ((before !== undefined && image.created >= before) || (since !== undefined && image.created <= since)) return false;
    if (!filter.labels.every((l) => hasLabel(image, l))) return false;
    if (filter.references.length === 0) return true;
    const { name } = image;
    return name !== undefined && filter.references.some((p) => matchesReference(p, name));
  });
}

function hasLabel(image: ImageSummary, label: string): boolean {
  const eq = label.indexOf('=');
  if (eq < 0) return Object.hasOwn(image.labels, label);
  return image.labels[label.slice(0, eq)] === label.slice(eq + 1);
}

/** createdOf is when the image a before= or since= filter names was made: by name (as listed) or by ID. */
function createdOf(images: readonly ImageSummary[], arg: string): number {
  const hex = arg.replace(/^sha256:/, '');
  const found = images.find((i) => i.name !== undefined && (familiarName(i.name) === arg || familiarName(i.name) === `${arg}:latest` || i.name === arg)) ??
    (/^[0-9a-f]{4,64}$/.test(hex) ? images.find((i) => i.id.slice('sha256:'.length).startsWith(hex)) : undefined);
  if (found === undefined) throw new UsageError(`No such image: ${arg}`, { hint: "'tbuild images' lists the local image store" });
  return found.created;
}

/** HEADERS are the column titles `docker images` gives its template fields. */
const HEADERS: Readonly<Record<string, string>> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

const DEFAULT_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';

/** imageRow is an image as `docker images` templates see it. */
function imageRow(image: ImageSummary, noTrunc: boolean, now: number): TableRow {
  const { repository, tag } = image.name === undefined ? { repository: '<none>', tag: '<none>' } : splitName(familiarName(image.name));
  const size = humanSize(image.size);
  return {
    Containers: 'N/A',
    CreatedAt: goDate(image.created),
    CreatedSince: formatAgo(image.created, now),
    Digest: '<none>',
    ID: noTrunc ? image.id : image.id.slice('sha256:'.length, 'sha256:'.length + 12),
    Repository: repository,
    SharedSize: 'N/A',
    Size: size,
    Tag: tag,
    UniqueSize: 'N/A',
    // Docker prints this one with a digit more.
    VirtualSize: humanSize(image.size, 4),
  };
}

/** renderImages renders images as `docker images` does: its table, `-q`, or a --format template (newest first). */
export function renderImages(images: readonly ImageSummary[], o: { quiet?: boolean; noTrunc?: boolean; format?: string; now?: number } = {}): string {
  const now = o.now ?? Date.now();
  const rows = images.map((image) => imageRow(image, o.noTrunc === true, now));
  if (o.quiet === true) return rows.map((r) => `${r['ID'] ?? ''}\n`).join('');
  const format = o.format === undefined || o.format === '' || o.format === 'table' ? DEFAULT_TABLE : o.format;
  if (format === 'json') return rows.map((r) => `${rowTemplate('{{json .}}').render(r)}\n`).join('');
  return dockerTable(format, rows, HEADERS);
}

/** humanSize renders a size as Docker's units.HumanSizeWithPrecision(size, 3) does: 4.86MB, 12.3kB, 100B. */
export function humanSize(n: number, precision = 3): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number.parseFloat(v.toPrecision(precision))}${units[u] ?? ''}`;
}

/** goDate prints a time as Go's time.Time.String does in UTC (`2024-01-02 03:04:05 +0000 UTC`). */
function goDate(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('T', ' ').replace('.000Z', '')} +0000 UTC`;
}

/** runImages renders the local image store as a `tbuild images` command line asks. */
export async function runImages(controller: Pick<Controller, 'images'>, { values, positionals }: ParsedArgs<typeof IMAGES_OPTIONS>): Promise<string> {
  if (positionals.length > 1) throw new UsageError('Cannot list images: expected at most one REPOSITORY[:TAG]', { hint: 'tbuild images [REPOSITORY[:TAG]]' });
  const filter = parseImageFilters([...(values.filter ?? []), ...positionals.map((p) => `reference=${p}`)]);
  if (values.quiet === true && values.format !== undefined) throw new UsageError('Cannot use --quiet and --format together');
  const listed = filterImages(await controller.images(), filter);
  return renderImages(listed, { quiet: values.quiet === true, noTrunc: values['no-trunc'] === true, ...(values.format === undefined ? {} : { format: values.format }) });
}

/** RMI_HELP is the text of `tbuild rmi --help`. */
export const RMI_HELP = `Usage: tbuild rmi [--force] IMAGE [IMAGE...] [--root DIR]

Remove images from the local image store: a name untags that name; an image ID (or a prefix of it)
removes every name of the image (with --force when it has several), or the image without a name.
Their layers are freed by 'tbuild prune' or the automatic collection after a build.
`;

/** runRemoveImages removes images by name or ID and prints what it removed, as docker rmi does. */
export async function runRemoveImages(controller: Controller, names: readonly string[], options: { force: boolean }): Promise<string> {
  const removed = await controller.removeImages(names, options);
  return removed.flatMap((r) => [...r.untagged.map((n) => `Untagged: ${familiarName(n)}`), ...r.deleted.map((d) => `Deleted: ${d}`)]).join('\n') + '\n';
}
