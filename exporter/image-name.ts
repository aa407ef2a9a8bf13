import { ExportError } from '../base/errors.js';

/** ImageName is an image reference normalised as Docker does. */
export interface ImageName {
  /** full is the fully qualified name, e.g. `docker.io/library/app:latest`. */
  readonly full: string;
  /** familiar is the short form Docker shows, e.g. `app:latest`. */
  readonly familiar: string;
  /** tag is the tag, if the name has one (a digest-only name has none). */
  readonly tag: string | undefined;
}

/** ANNOTATION_IMAGE_NAME is containerd's annotation for the full image name. */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
/** ANNOTATION_REF_NAME is the OCI annotation for the reference (tag) of a manifest in a layout. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

const DEFAULT_DOMAIN = 'docker.io';

/** parseImageName normalises `app`, `app:1`, `host:5000/team/app@sha256:...` and similar names. */
export function parseImageName(name: string): ImageName {
  const [withTag = '', digest] = name.split('@', 2);
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  let repo = colon > slash ? withTag.slice(0, colon) : withTag;
  let tag = colon > slash ? withTag.slice(colon + 1) : undefined;
  if (repo === '' || /[A-Z\s]/.test(repo.split('/').slice(1).join('/') + (repo.includes('/') ? '' : repo))) {
    throw new ExportError(`Cannot use image name "${name}": invalid reference format`);
  }
  const first = repo.split('/')[0] ?? '';
  const hasDomain = repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) repo = `${DEFAULT_DOMAIN}/${repo}`;
  if (repo.startsWith(`${DEFAULT_DOMAIN}/`) && repo.split('/').length === 2) repo = `${DEFAULT_DOMAIN}/library/${repo.split('/')[1] ?? ''}`;
  if (tag === undefined && digest === undefined) tag = 'latest';
  const suffix = `${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
  const short = repo.replace(/^docker\.io\/(library\/)?/, '');
  return { full: `${repo}${suffix}`, familiar: `${short}${suffix}`, tag };
}
