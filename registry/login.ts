import { RegistryError } from '../base/errors.js';
import { Authorizer } from './auth.js';
import type { RegistryConfig } from './config.js';
import { normaliseAuthKey, type Credentials } from './credentials.js';
import { EndpointResolver } from './endpoints.js';
import { responseError, Transport, type Operation } from './transport.js';

/** verifyLogin checks credentials against a registry's `/v2/` (Basic or Bearer, whichever the registry asks for). */
export async function verifyLogin(
  host: string,
  creds: Credentials,
  options: { config: RegistryConfig; signal: AbortSignal },
): Promise<void> {
  const registry = normaliseAuthKey(host);
  await using endpoints = new EndpointResolver(options.config);
  const [endpoint] = await endpoints.endpoints(registry, { pull: false });
  if (endpoint === undefined) throw new RegistryError(`Cannot log in to "${registry}": no endpoint`, { code: 'REGISTRY_AUTH' });
  const transport = new Transport(new Authorizer({ credentialsFor: () => Promise.resolve(creds) }));
  const operation: Operation = { action: 'Cannot log in to', ref: registry };
  const res = await transport.send({ method: 'GET', endpoint, credentialsHost: registry, url: '/v2/', scope: '', operation, signal: options.signal });
  if (res.statusCode !== 200) throw await responseError(operation, res);
  await res.body.dump();
}
