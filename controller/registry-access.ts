import { createRegistryClient, loadRegistryConfig, type DisposableRegistryClient, type RegistryClient } from '../registry/index.js';

/** RegistryAccess makes one registry client on first use and closes it with the build. */
export interface RegistryAccess extends AsyncDisposable {
  readonly client: () => RegistryClient;
}

/** openRegistryAccess reads the registry settings (or the default file) and prepares a lazily made client. */
export async function openRegistryAccess(configPath: string | undefined): Promise<RegistryAccess> {
  const config = await loadRegistryConfig(configPath);
  let client: DisposableRegistryClient | undefined;
  return {
    client: () => (client ??= createRegistryClient({ config })),
    [Symbol.asyncDispose]: async () => {
      await client?.close();
    },
  };
}
