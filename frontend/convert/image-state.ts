import type { ContainerConfig, HistoryEntry, ImageBase, ImageConfig, Platform } from '../../base/oci.js';

/** MutableContainerConfig is the working copy of a stage's container config. */
export type MutableContainerConfig = { -readonly [K in keyof ContainerConfig]: ContainerConfig[K] };

/** ImageState is the image config a stage is building, changed instruction by instruction. */
export interface ImageState {
  author: string | undefined;
  config: MutableContainerConfig;
  history: HistoryEntry[];
  /** When the entries this build adds were made: SOURCE_DATE_EPOCH (RFC 3339), else left for the exporter to fill. */
  historyTime?: string;
  /** What the image took from a base image (none for scratch or a named local context). */
  base?: ImageBase;
}

/** DEFAULT_PATH is the PATH a Linux image gets when its config sets none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const HISTORY_COMMENT = 'buildkit.dockerfile.v0';

/** emptyImageState is the config of `FROM scratch`. */
export function emptyImageState(): ImageState {
  return { author: undefined, config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' }, history: [] };
}

/** imageStateFrom copies a base image's config, dropping its creation time, and notes what the image takes from it. */
export function imageStateFrom(image: ImageConfig): ImageState {
  const history = [...(image.history ?? [])];
  return { author: image.author, config: { ...(image.config ?? {}) }, history, base: { diffIds: image.rootfs.diff_ids, historyLength: history.length } };
}

/** cloneImageState copies a stage's image for a stage built FROM it; ONBUILD triggers do not carry over. */
export function cloneImageState(image: ImageState): ImageState {
  const config = { ...image.config };
  delete config.OnBuild;
  return {
    author: image.author,
    config,
    history: [...image.history],
    ...(image.historyTime === undefined ? {} : { historyTime: image.historyTime }),
    ...(image.base === undefined ? {} : { base: image.base }),
  };
}

/** commitHistory records one instruction in the image history, as BuildKit words it. */
export function commitHistory(image: ImageState, createdBy: string, options: { layer: boolean; buildkitSuffix?: boolean }): void {
  image.history.push({
    created_by: options.buildkitSuffix === true ? `${createdBy} # buildkit` : createdBy,
    comment: HISTORY_COMMENT,
    ...(image.historyTime === undefined ? {} : { created: image.historyTime }),
    ...(options.layer ? {} : { empty_layer: true }),
  });
}

/** setEnvEntry sets KEY=value in an image Env list, replacing the same key in place. */
export function setEnvEntry(env: readonly string[] | undefined, key: string, value: string): string[] {
  const out = [...(env ?? [])];
  // Compared without cutting each entry: a Dockerfile of many ENV lines made this loop the conversion's cost.
  const prefix = `${key}=`;
  const i = out.findIndex((e) => e.startsWith(prefix) || e === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

/** finalizeImage turns a stage's image state into the OCI image config for the target platform. */
export function finalizeImage(image: ImageState, platform: Platform): ImageConfig {
  const config: MutableContainerConfig = { ...image.config };
  if (config.OnBuild !== undefined && config.OnBuild !== null && config.OnBuild.length === 0) delete config.OnBuild;
  return {
    ...(image.author === undefined ? {} : { author: image.author }),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant === undefined ? {} : { variant: platform.variant }),
    config,
    rootfs: { type: 'layers', diff_ids: [] },
    history: image.history,
  };
}
