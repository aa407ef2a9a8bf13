import type { DisposableRegistryClient, RegistryClient } from '../registry/index.js';
import { loadRegistryConfig } from '../registry/config.js';

/** RegistryAccess makes one registry client on first use and closes it with the build. */
export interface RegistryAccess extends AsyncDisposable {
  readonly client: () => Promise<RegistryClient>;
}

/** openRegistryAccess reads the registry settings (or the default file) and prepares a lazily made client. */
export async function openRegistryAccess(configPath: string | undefined): Promise<RegistryAccess> {
  const config = await loadRegistryConfig(configPath);
  let client: Promise<DisposableRegistryClient> | undefined;
  return {
    // The client module (and undici) loads only when a build talks to a registry.
    client: () => (client ??= import('../registry/index.js').then((m) => m.createRegistryClient({ config }))),
    [Symbol.asyncDispose]: async () => {
      await (await client)?.close();
    },
  };
}
