import { DockerfileError } from '../../base/errors.js';

/** formatEpoch writes seconds since the epoch in RFC 3339 as Go (and so BuildKit) does: no fraction for whole seconds. */
export function formatEpoch(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * resolveSourceDateEpoch reads SOURCE_DATE_EPOCH as BuildKit's Dockerfile frontend does: a --build-arg (even empty)
 * wins, else a non-empty default of a global ARG. An empty value means none, and so does `context`: BuildKit dates a
 * local context by nothing (tbuild reads every context, URL ones too, from a local copy). Otherwise the value is whole
 * seconds since the epoch; BuildKit's dating from a stage or a named context is not supported.
 */
export function resolveSourceDateEpoch(
  buildArgs: ReadonlyMap<string, string>,
  globalArgs: ReadonlyMap<string, string>,
  isSourceName: (name: string) => boolean,
): number | undefined {
  const raw = buildArgs.get('SOURCE_DATE_EPOCH') ?? globalArgs.get('SOURCE_DATE_EPOCH') ?? '';
  if (raw === '' || raw === 'context') return undefined;
  if (/^\d+$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
  if (isSourceName(raw)) {
    throw new DockerfileError(`Cannot use SOURCE_DATE_EPOCH="${raw}": dating the build from a stage or a named context is not supported`);
  }
  throw new DockerfileError(`invalid SOURCE_DATE_EPOCH: ${raw}`);
}
