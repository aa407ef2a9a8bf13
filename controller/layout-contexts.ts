import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { digestHex, isDigest, type Digest } from '../base/digest.js';
import { ContentError, UsageError } from '../base/errors.js';
import type { Descriptor } from '../base/oci.js';
import { decodeImageIndex } from '../base/oci-decode.js';
import { ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME } from '../exporter/index.js';
import { parseReference } from '../registry/index.js';
import { layoutRef, type LayoutBlobs } from '../solver/ops/index.js';
import type { BuildContextSpec } from './request.js';

/** LayoutContextSpec is a `--build-context NAME=oci-layout://PATH[:TAG][@DIGEST]`. */
export type LayoutContextSpec = Extract<BuildContextSpec, { type: 'oci-layout' }>;


/** layoutContextText is the flag as the user gave it, for messages. */
export function layoutContextText(spec: LayoutContextSpec): string {
  return `--build-context ${spec.name}=oci-layout://${spec.path}${spec.tag === undefined ? '' : `:${spec.tag}`}${spec.digest === undefined ? '' : `@${spec.digest}`}`;
}

/** layoutContextArg is the frontend option buildx sends for the context (`context:NAME`), the layout named after the context. */
export function layoutContextArg(spec: LayoutContextSpec, digest: Digest | undefined): string {
  const pinned = digest ?? spec.digest;
  return `oci-layout://${spec.name}${spec.tag === undefined ? '' : `:${spec.tag}`}${pinned === undefined ? '' : `@${pinned}`}`;
}

/** FolderLayout reads the blobs of an OCI image layout folder (`blobs/sha256/HEX`). */
export class FolderLayout implements LayoutBlobs {
  constructor(readonly dir: string) {}

  blobPath(digest: Digest): string {
    return join(this.dir, 'blobs', 'sha256', digestHex(digest));
  }

  async read(digest: Digest): Promise<Uint8Array> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (err) {
      throw this.#missing(digest, err);
    }
  }

  async open(descriptor: Descriptor): Promise<Readable> {
    const path = this.blobPath(descriptor.digest);
    const st = await stat(path).catch((err: unknown) => {
      throw this.#missing(descriptor.digest, err);
    });
    if (!st.isFile()) throw this.#missing(descriptor.digest, undefined);
    return createReadStream(path);
  }

  #missing(digest: Digest, cause: unknown): ContentError {
    return new ContentError(`The OCI layout ${this.dir} has no blob ${digest}`, { code: 'CONTENT_NOT_FOUND', cause });
  }
}

/**
 * resolveLayoutContext finds the digest a layout context names, on the client as buildx does: a digest given is
 * used as it is (its blob must be in the layout); else the tag is looked up in index.json by the
 * `io.containerd.image.name` annotation, then by `org.opencontainers.image.ref.name`, and a layout holding a single
 * entry gives that entry whatever the tag.
 */
export async function resolveLayoutContext(spec: LayoutContextSpec, layout: FolderLayout): Promise<Digest> {
  const flag = layoutContextText(spec);
  const indexPath = join(spec.path, 'index.json');
  const text = await readFile(indexPath, 'utf8').catch((err: unknown) => {
    const reason = err instanceof Error && 'code' in err && err.code === 'ENOENT' ? `${spec.path} is not an OCI layout: it has no index.json` : `cannot read ${indexPath}`;
    throw new UsageError(`Cannot use ${flag}: ${reason}`, { cause: err, hint: 'an OCI layout is what `-o type=oci,tar=false,dest=DIR` writes' });
  });
  let entries: readonly Descriptor[];
  try {
    entries = decodeImageIndex(JSON.parse(text)).manifests;
  } catch (err) {
    throw new UsageError(`Cannot use ${flag}: ${indexPath} is not an OCI image index: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (spec.digest !== undefined) {
    await layout.read(spec.digest).catch((err: unknown) => {
      throw new UsageError(`Cannot use ${flag}: the layout has no blob ${spec.digest}`, { cause: err });
    });
    return spec.digest;
  }
  const tag = spec.tag ?? 'latest';
  const found =
    entries.find((m) => m.annotations?.[ANNOTATION_IMAGE_NAME] === tag) ??
    entries.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === tag) ??
    (entries.length === 1 ? entries[0] : undefined);
  if (found === undefined) {
    const tags = entries.flatMap((m) => m.annotations?.[ANNOTATION_REF_NAME] ?? []);
    const known = tags.length === 0 ? 'it names no tags' : `its tags are ${tags.join(', ')}`;
    throw new UsageError(`Cannot use ${flag}: ${indexPath} has ${entries.length} images and none is tagged ${tag} (${known})`, { hint: 'name the image by tag or by @sha256:DIGEST' });
  }
  return found.digest;
}

/** checkLayoutName refuses a context name that is no image name: its image is named NAME@DIGEST, as in BuildKit. */
function checkLayoutName(spec: LayoutContextSpec): void {
  try {
    parseReference(spec.name);
  } catch (err) {
    throw new UsageError(`Cannot use ${layoutContextText(spec)}: an OCI layout context's name must be a valid image name`, { cause: err });
  }
}

/** LayoutContexts are the OCI layout contexts of a build: what the frontend resolves each name to, and the layouts' blobs. */
export interface LayoutContexts {
  /** The graph reference of each context's image, `oci-layout://NAME@DIGEST`. */
  readonly refs: ReadonlyMap<string, string>;
  /** The digest each context's image was found at (given, or looked up by tag). */
  readonly digests: ReadonlyMap<string, Digest>;
  readonly layouts: ReadonlyMap<string, LayoutBlobs>;
}

/** ClientLayout is an OCI layout context found on the client: its spec, the digest its image is at, and its folder. */
export interface ClientLayout {
  readonly spec: LayoutContextSpec;
  readonly digest: Digest;
  readonly folder: FolderLayout;
}

/**
 * resolveClientLayouts finds the image of every OCI layout context of a request in its folder, as buildx does on the
 * client before it sends the build (the digest given, or the tag looked up in index.json).
 */
export async function resolveClientLayouts(specs: readonly BuildContextSpec[]): Promise<ReadonlyMap<string, ClientLayout>> {
  const out = new Map<string, ClientLayout>();
  for (const spec of specs) {
    if (spec.type !== 'oci-layout') continue;
    checkLayoutName(spec);
    const folder = new FolderLayout(spec.path);
    out.set(spec.name, { spec, digest: await resolveLayoutContext(spec, folder), folder });
  }
  return out;
}

/**
 * openLayoutContexts readies the OCI layout contexts of a request: a folder of this machine, or the blobs a remote
 * client serves (`served`, by context name, with the digest the client resolved).
 */
export async function openLayoutContexts(specs: readonly BuildContextSpec[], served?: ReadonlyMap<string, LayoutBlobs>): Promise<LayoutContexts> {
  const refs = new Map<string, string>();
  const digests = new Map<string, Digest>();
  const layouts = new Map<string, LayoutBlobs>();
  const add = (name: string, digest: Digest, blobs: LayoutBlobs): void => {
    refs.set(name, layoutRef(name, digest));
    digests.set(name, digest);
    layouts.set(name, blobs);
  };
  if (served === undefined) {
    for (const found of (await resolveClientLayouts(specs)).values()) add(found.spec.name, found.digest, found.folder);
    return { refs, digests, layouts };
  }
  for (const spec of specs) {
    if (spec.type !== 'oci-layout') continue;
    // A remote client resolved the digest and serves the blobs: the server reads no folder of its own.
    const remote = served.get(spec.name);
    if (remote === undefined || spec.digest === undefined) throw new UsageError(`Cannot use build context "${spec.name}": its OCI layout is not served by the client`);
    checkLayoutName(spec);
    add(spec.name, spec.digest, remote);
  }
  return { refs, digests, layouts };
}
