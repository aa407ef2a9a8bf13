import { readFile } from 'node:fs/promises';
import { errnoCode, UsageError } from '../../base/errors.js';

/** SecretProvider gives the value of a build secret when a RUN mounts it; values are never cached or logged. */
export interface SecretProvider {
  /** get returns the value of secret `id`, or undefined when the build was given no secret with that id. */
  get(id: string, options: { signal: AbortSignal }): Promise<Buffer | undefined>;
}

/** SecretSource is where a build secret's value comes from: a file read on use, or a value the caller gave. */
export type SecretSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'value'; readonly value: Uint8Array };

/** LocalSecretProvider serves secrets from files on this host and from values the caller gave, as embedded builds do. */
export class LocalSecretProvider implements SecretProvider {
  readonly #sources: ReadonlyMap<string, SecretSource>;

  constructor(sources: ReadonlyMap<string, SecretSource>) {
    this.#sources = sources;
  }

  /** get reads the value of secret `id` from its source. */
  async get(id: string, options: { signal: AbortSignal }): Promise<Buffer | undefined> {
    const source = this.#sources.get(id);
    switch (source?.kind) {
      case undefined:
        return undefined;
      case 'file':
        try {
          return await readFile(source.path, { signal: options.signal });
        } catch (err) {
          if (options.signal.aborted) throw err;
          // The path is the user's own; the value is never part of a message.
          throw new UsageError(`Cannot read secret "${id}" from ${source.path}: ${errnoCode(err) ?? 'error'}`);
        }
      case 'value':
        return Buffer.from(source.value);
    }
  }
}
