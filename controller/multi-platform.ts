import { UsageError } from '../base/errors.js';
import { parseGoBool } from '../base/go-bool.js';
import { hostPlatform, type Platform } from '../base/oci.js';
import type { BuildRequest } from './request.js';

/** MULTI_PLATFORM_ARG is the build argument that asks for an image index whatever the number of platforms. */
const MULTI_PLATFORM_ARG = 'BUILDKIT_MULTI_PLATFORM';

/**
 * indexPlatforms lists the platforms a build makes an image index of, or none when it makes one image: several
 * `--platform`, or `BUILDKIT_MULTI_PLATFORM=true`, which makes an index of even one platform (the target's, else the
 * host's), as BuildKit's Dockerfile frontend reads it. A value that is no Go boolean, and false with several
 * platforms, are refused with BuildKit's messages.
 */
export function indexPlatforms(request: Pick<BuildRequest, 'buildArgs' | 'platform' | 'platforms'>): readonly Platform[] {
  const several = request.platforms ?? [];
  const value = request.buildArgs?.get(MULTI_PLATFORM_ARG) ?? '';
  if (value === '') return several.length > 1 ? several : [];
  const on = parseGoBool(value);
  if (on === undefined) throw new UsageError(`invalid boolean value for multi-platform: ${value}`, { hint: `set ${MULTI_PLATFORM_ARG} to true or false` });
  if (!on && several.length > 1) throw new UsageError('conflicting config: returning multiple target platforms is not allowed', { hint: `${MULTI_PLATFORM_ARG}=false asks for one image: give one --platform` });
  if (!on) return [];
  return several.length > 0 ? several : [request.platform ?? hostPlatform()];
}
