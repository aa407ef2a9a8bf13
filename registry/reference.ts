import { isDigest, type Digest } from '../base/digest.js';
import { RegistryError } from '../base/errors.js';

/** Reference names an image in a registry: a repository plus a tag and/or a digest. */
export interface Reference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

/** DEFAULT_REGISTRY is the registry of names without a domain, as Docker spells it. */
export const DEFAULT_REGISTRY = 'docker.io';
/** DEFAULT_TAG is the tag added to a name that has neither tag nor digest. */
export const DEFAULT_TAG = 'latest';

const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';
const MAX_NAME_LENGTH = 255;

// The grammar of github.com/distribution/reference (regexp.go), written out in full.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST_SHAPE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-zA-Z=_-]+$/;
const HEX_ID = /^[a-f0-9]{64}$/;

function invalid(input: string, detail: string): RegistryError {
  return new RegistryError(`Cannot parse image reference "${input}": ${detail}`, { code: 'REFERENCE_INVALID', ref: input });
}

/** Splits `name[:tag][@digest]` into its parts without validating them. */
function splitReference(input: string): { name: string; tag: string | undefined; digest: string | undefined } {
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  // A colon before the last slash belongs to a host:port, not to a tag.
  if (colon !== -1 && colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}

/** Splits a name into registry and repository the way Docker's splitDockerDomain does. */
function splitDomain(name: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isDomain = slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  let registry = isDomain ? first : DEFAULT_REGISTRY;
  let repository = isDomain ? name.slice(slash + 1) : name;
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = OFFICIAL_PREFIX + repository;
  return { registry, repository };
}

function checkRepository(input: string, registry: string, repository: string): void {
  if (!DOMAIN.test(registry)) throw invalid(input, `invalid registry host "${registry}"`);
  if (repository.toLowerCase() !== repository) throw invalid(input, 'repository name must be lowercase');
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) throw invalid(input, 'invalid reference format');
  }
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw invalid(input, `repository name must not be more than ${MAX_NAME_LENGTH} characters`);
  }
}

/** parseReference parses and normalises a reference as `docker pull` does (`busybox` → `docker.io/library/busybox:latest`). */
export function parseReference(input: string): Reference {
  if (input === '') throw invalid(input, 'repository name must have at least one component');
  if (HEX_ID.test(input)) throw invalid(input, 'cannot specify 64-byte hexadecimal strings');
  const parts = splitReference(input);
  if (parts.name === '') throw invalid(input, 'invalid reference format');
  const { registry, repository } = splitDomain(parts.name);
  checkRepository(input, registry, repository);
  if (parts.tag !== undefined && !TAG.test(parts.tag)) throw invalid(input, `invalid tag "${parts.tag}"`);
  let digest: Digest | undefined;
  if (parts.digest !== undefined) {
    if (!DIGEST_SHAPE.test(parts.digest)) throw invalid(input, `invalid digest "${parts.digest}"`);
    if (!isDigest(parts.digest)) throw invalid(input, `unsupported digest "${parts.digest}": expected sha256:<64 hex digits>`);
    digest = parts.digest;
  }
  const tag = parts.tag ?? (digest === undefined ? DEFAULT_TAG : undefined);
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** formatReference renders a fully qualified reference: `registry/repository[:tag][@digest]`. */
export function formatReference(ref: Reference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** familiarName returns the short repository name Docker shows (`docker.io/library/busybox` → `busybox`). */
export function familiarName(ref: Reference): string {
  if (ref.registry !== DEFAULT_REGISTRY) return `${ref.registry}/${ref.repository}`;
  return ref.repository.startsWith(OFFICIAL_PREFIX) && !ref.repository.slice(OFFICIAL_PREFIX.length).includes('/')
    ? ref.repository.slice(OFFICIAL_PREFIX.length)
    : ref.repository;
}

/** familiarString returns the familiar form of a whole reference (`busybox:latest`, `foo/bar@sha256:…`). */
export function familiarString(ref: Reference): string {
  let out = familiarName(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** withDigest pins a reference to a digest, keeping its tag for display. */
export function withDigest(ref: Reference, digest: Digest): Reference {
  return { ...ref, digest };
}

/**
 * referrersTag is the tag of the fallback referrers index of a manifest: `sha256-HEX`. It lives here, with the other pure
 * reference helpers, so that exporters naming the tag do not load the registry client (and undici) with them.
 */
export function referrersTag(digest: Digest): string {
  return digest.replace(':', '-');
}
