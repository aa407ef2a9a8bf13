import { UsageError } from '../base/errors.js';
import { formatPlatform, type Platform } from '../base/oci.js';

/** parsePlatformFlag reads `--platform` values, each one or a comma-separated list of OS/ARCH[/VARIANT], without repeats. */
export function parsePlatformFlag(values: readonly string[]): Platform[] {
  const list = values.flatMap((v) => v.split(',')).map((p) => p.trim()).filter((p) => p !== '').map(parsePlatform);
  return [...new Map(list.map((p) => [formatPlatform(p), p])).values()];
}

function parsePlatform(text: string): Platform {
  const [os, architecture, variant, extra] = text.split('/');
  if (!os || !architecture || extra !== undefined) throw new UsageError(`Cannot use --platform=${text}: expected OS/ARCH[/VARIANT]`);
  return variant ? { os, architecture, variant } : { os, architecture };
}
