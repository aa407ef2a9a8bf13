import type { CredentialStore, DisposableRegistryClient, RegistryClient } from '../registry/index.js';
import { loadRegistryConfig, type BlobLocations } from '../registry/index.js';

/** RegistryAccess makes one registry client on first use and closes it with the build. */
export interface RegistryAccess extends AsyncDisposable {
  readonly client: () => Promise<RegistryClient>;
  /** Where the client has seen blobs (and where imported caches say they are), for cross-repository mounts. */
  readonly locations: BlobLocations;
}

/**
 * openRegistryAccess reads the registry settings of a settings file (none without one) and prepares a lazily made client, which
 * records where it sees blobs in `locations` and reads credentials from the caller's Docker config folder, or from
 * `credentials` when given (a remote client answering for its own).
 */
export async function openRegistryAccess(
  configPath: string | undefined,
  locations: BlobLocations,
  dockerConfigDir: string | undefined,
  store?: CredentialStore,
): Promise<RegistryAccess> {
  const config = await loadRegistryConfig(configPath);
  let client: Promise<DisposableRegistryClient> | undefined;
  const credentials = store !== undefined ? { credentials: store } : dockerConfigDir === undefined ? {} : { dockerConfigDir };
  return {
    // The client module (and undici) loads only when a build talks to a registry.
    client: () => (client ??= import('../registry/lazy.js').then((m) => m.createRegistryClient({ config, blobLocations: locations, ...credentials }))),
    locations,
    [Symbol.asyncDispose]: async () => {
      await (await client)?.close();
    },
  };
}
