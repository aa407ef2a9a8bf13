import { InternalError, UsageError } from '../base/errors.js';
import type { MessageReader } from './message-reader.js';
import type { ClientMessage } from './messages.js';
import type { StreamCredentialStore } from './stream-credentials.js';
import type { StreamLayoutBlobs } from './stream-layout-blobs.js';
import type { StreamSecretProvider } from './stream-secret-provider.js';
import type { StreamSshAgentProvider } from './stream-ssh-agent-provider.js';

/** SessionServices are the providers answered by the client while a build runs. */
export interface SessionServices {
  readonly secrets: StreamSecretProvider;
  readonly ssh: StreamSshAgentProvider;
  readonly layouts: StreamLayoutBlobs;
  readonly credentials: StreamCredentialStore;
}

/**
 * receiveSession reads the client's secret and credential answers, agent bytes and layout blobs until it ends its half
 * of the call. It never rejects: a broken stream fails the secret, credential and blob requests waiting and those still
 * to come.
 */
export async function receiveSession(reader: MessageReader<ClientMessage>, services: SessionServices, signal: AbortSignal): Promise<void> {
  try {
    for (;;) {
      const m = await reader.next();
      if (m === undefined) break;
      switch (m.kind) {
        case 'secret':
          services.secrets.answer(m.secret);
          break;
        case 'credentials':
          services.credentials.answer(m.credentials);
          break;
        case 'sshData':
          // Waiting here keeps backpressure: the call is not read further while the RUN's connection is full.
          await services.ssh.deliver(m.sshData, signal);
          break;
        case 'sshClose':
          services.ssh.closeFromClient(m.sshClose.conn);
          break;
        case 'blob':
          // Waiting here keeps backpressure too: a layer is read as fast as the store takes it.
          await services.layouts.deliver(m.blob);
          break;
        default:
          throw new InternalError(`Cannot continue the build: expected secret, credentials, ssh or blob messages, got ${m.kind}`);
      }
    }
    services.secrets.fail(new UsageError('Cannot read a secret from the client: the client stopped serving secrets'));
    services.layouts.fail(new UsageError('Cannot read a blob of an OCI layout context from the client: the client stopped serving them'));
    services.credentials.fail(new UsageError('Cannot read registry credentials from the client: the client stopped answering'));
  } catch (err) {
    const failure = err instanceof Error ? err : new InternalError(String(err));
    services.secrets.fail(failure);
    services.credentials.fail(failure);
    services.layouts.fail(failure);
  }
}
