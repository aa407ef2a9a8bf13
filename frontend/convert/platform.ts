import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import { formatPlatform, type Platform } from '../../base/oci.js';

/** parsePlatform reads `os/arch[/variant]`. */
export function parsePlatform(text: string, location: SourceLocation): Platform {
  const [os, architecture, variant, extra] = text.toLowerCase().split('/');
  if (os === undefined || os === '' || architecture === undefined || architecture === '' || extra !== undefined || variant === '') {
    throw new DockerfileError(`Cannot parse platform "${text}": expected os/arch[/variant]`, { location });
  }
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** builtinPlatformArgs are the automatic TARGET* and BUILD* args. */
export function builtinPlatformArgs(target: Platform, build: Platform): Map<string, string> {
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
