import { UsageError } from '../base/errors.js';
import { loadRegistryConfig } from '../registry/index.js';
import type { SavedLogin } from '../registry/index.js';

// The registry client (and undici) loads only for login and logout, never with the rest of the controller.
const registry = () => import('../registry/lazy.js');

/** LoginRequest is one `tbuild login`. */
export interface LoginRequest {
  readonly registry: string;
  readonly username: string;
  readonly password: string;
  /** tbuild.toml with registry settings (CA, plain HTTP); none when undefined. */
  readonly registryConfigPath?: string;
  /** Folder of the caller's Docker config.json (`$DOCKER_CONFIG` or `~/.docker` for the CLI), where the login is kept. */
  readonly dockerConfigDir: string;
}

/** loginToRegistry checks the credentials against the registry, then stores them as `docker login` does. */
export async function loginToRegistry(request: LoginRequest, options: { signal: AbortSignal }): Promise<SavedLogin> {
  if (request.username === '') throw new UsageError('Cannot log in: the user name is empty');
  if (request.password === '') throw new UsageError('Cannot log in: the password is empty');
  const config = await loadRegistryConfig(request.registryConfigPath);
  const { saveLogin, verifyLogin } = await registry();
  await verifyLogin(request.registry, { kind: 'basic', username: request.username, password: request.password }, { config, signal: options.signal });
  const creds = { username: request.username, password: request.password };
  return saveLogin(request.dockerConfigDir, request.registry, creds, options);
}

/** logoutFromRegistry removes stored credentials; it returns false when none were stored. */
export async function logoutFromRegistry(
  request: { registry: string; dockerConfigDir: string },
  options: { signal: AbortSignal },
): Promise<boolean> {
  const { removeLogin } = await registry();
  return removeLogin(request.dockerConfigDir, request.registry, options);
}
