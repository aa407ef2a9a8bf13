import { ExportError } from '../base/errors.js';

/**
 * SharedPaths remembers which platform wrote each path of an output that several platforms fill together
 * (`platform-split=false`): folders are shared, but a file of one platform where another's is fails the export, as
 * BuildKit's local and tar exporters refuse to overwrite it.
 */
export class SharedPaths {
  readonly #owners = new Map<string, string>();
  readonly #dirs = new Set<string>();

  /** claim records that a platform writes a path; it returns false for a folder written already (written once). */
  claim(rel: string, platform: string, isDir: boolean): boolean {
    if (isDir) {
      if (this.#dirs.has(rel)) return false;
      this.#dirs.add(rel);
      return true;
    }
    const previous = this.#owners.get(rel);
    if (previous !== undefined && previous !== platform) {
      throw new ExportError(`cannot overwrite ${rel} from ${previous} with ${platform} when split option is disabled`);
    }
    this.#owners.set(rel, platform);
    return true;
  }
}
