import { DockerfileError } from '../../base/errors.js';

/** formatEpoch writes seconds since the epoch in RFC 3339 as Go (and so BuildKit) does: no fraction for whole seconds. */
export function formatEpoch(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * resolveSourceDateEpoch reads SOURCE_DATE_EPOCH as BuildKit's Dockerfile frontend does: a --build-arg (even empty)
 * wins, else a non-empty default of a global ARG. An empty value means none. The value is whole seconds since the
 * epoch; BuildKit's other forms (a named context or a stage to date from) are not supported.
 */
export function resolveSourceDateEpoch(buildArgs: ReadonlyMap<string, string>, globalArgs: ReadonlyMap<string, string>): number | undefined {
  const raw = buildArgs.get('SOURCE_DATE_EPOCH') ?? globalArgs.get('SOURCE_DATE_EPOCH') ?? '';
  if (raw === '') return undefined;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new DockerfileError(`Cannot use SOURCE_DATE_EPOCH="${raw}": expected a whole number of seconds`);
  }
  return Number(raw);
}
