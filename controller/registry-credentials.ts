import type { CredentialStore } from '../registry/index.js';

/**
 * dockerCredentials answers registry credentials from the Docker config.json in `dockerConfigDir` (`auths`,
 * `credsStore`, `credHelpers`, which `tbuild login` writes), as a local build does; undefined: none at all. The file is
 * read, and the registry module loaded, on the first question only.
 */
export function dockerCredentials(dockerConfigDir: string | undefined): CredentialStore {
  let store: Promise<CredentialStore> | undefined;
  return {
    async credentialsFor(host, options) {
      store ??= import('../registry/lazy.js').then((m) => m.loadDockerCredentials(dockerConfigDir));
      return (await store).credentialsFor(host, options);
    },
  };
}
