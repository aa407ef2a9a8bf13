import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import { formatPlatform, type Platform } from '../../base/oci.js';
import { normalizePlatform } from '../../base/platform.js';

const PLATFORM_COMPONENT = /^[A-Za-z0-9_.-]+$/;

/** parsePlatform reads `os/arch[/variant]`, normalized as containerd does (arm is arm/v7, arm64/v8 is arm64). */
export function parsePlatform(text: string, location: SourceLocation): Platform {
  const bad = text.split('/').find((c) => !PLATFORM_COMPONENT.test(c));
  if (bad !== undefined) {
    // containerd's words, as BuildKit reports them.
    throw new DockerfileError(`"${bad}" is an invalid component of "${text}": platform specifier component must match "${PLATFORM_COMPONENT.source}": invalid argument`, { location });
  }
  const [os, architecture, variant, extra] = text.toLowerCase().split('/');
  if (os === undefined || os === '' || architecture === undefined || architecture === '' || extra !== undefined || variant === '') {
    throw new DockerfileError(`Cannot parse platform "${text}": expected os/arch[/variant]`, { location });
  }
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

/** builtinPlatformArgs are the automatic TARGET* and BUILD* args, of the platforms normalized as BuildKit's are. */
export function builtinPlatformArgs(targetPlatform: Platform, buildPlatform: Platform): Map<string, string> {
  const target = normalizePlatform(targetPlatform);
  const build = normalizePlatform(buildPlatform);
  return new Map([
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
  ]);
}
