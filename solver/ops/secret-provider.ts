import { readFile } from 'node:fs/promises';
import { errnoCode, UsageError } from '../../base/errors.js';

/** SecretProvider gives the value of a build secret when a RUN mounts it; values are never cached or logged. */
export interface SecretProvider {
  /** get returns the value of secret `id`, or undefined when the build was given no secret with that id. */
  get(id: string, options: { signal: AbortSignal }): Promise<Buffer | undefined>;
}

/** SecretSource is where a build secret's value is read from: a file or an environment variable of this process. */
export type SecretSource = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'env'; readonly name: string };

/** LocalSecretProvider reads secrets from files and environment variables of this process, as embedded builds do. */
export class LocalSecretProvider implements SecretProvider {
  readonly #sources: ReadonlyMap<string, SecretSource>;
  readonly #env: NodeJS.ProcessEnv;

  constructor(sources: ReadonlyMap<string, SecretSource>, env: NodeJS.ProcessEnv = process.env) {
    this.#sources = sources;
    this.#env = env;
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
      case 'env': {
        const v = this.#env[source.name];
        return v === undefined ? undefined : Buffer.from(v);
      }
    }
  }
}
