import { UsageError } from '../base/errors.js';
import type { BuildRequest } from '../controller/index.js';
import type { BuildStartMsg } from './messages.js';

/**
 * refuseClientSideOptions stops a remote build that needs something from the client's disk or agent the protocol
 * does not carry yet (secrets, SSH, local named contexts, cache import or export), rather than dropping it silently.
 */
export function refuseClientSideOptions(request: BuildRequest): void {
  const unsupported: string[] = [];
  if ((request.secrets ?? []).length > 0) unsupported.push('--secret');
  if ((request.ssh ?? []).length > 0) unsupported.push('--ssh');
  if ((request.buildContexts ?? []).some((c) => c.type === 'local')) unsupported.push('--build-context with a local folder');
  if ((request.cacheFrom ?? []).length > 0) unsupported.push('--cache-from');
  if ((request.cacheTo ?? []).length > 0) unsupported.push('--cache-to');
  if (unsupported.length > 0) {
    throw new UsageError(`Cannot build on a remote builder with ${unsupported.join(', ')}: not supported by the remote protocol yet`, {
      hint: 'build without --builder for these options',
    });
  }
}

/** sessionFields are the request options sent as they are. */
export function sessionFields(request: BuildRequest): Pick<BuildStartMsg, 'pull' | 'network' | 'allow' | 'imageContexts' | 'check' | 'print'> {
  return {
    pull: request.pull ?? false,
    network: request.network ?? '',
    allow: request.allow ?? [],
    imageContexts: (request.buildContexts ?? []).flatMap((c) => (c.type === 'image' ? [{ name: c.name, ref: c.ref }] : [])),
    check: request.check ?? false,
    print: request.print ?? '',
  };
}
