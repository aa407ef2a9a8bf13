import { createHash } from 'node:crypto';
import { canonicalJson } from '../base/canonical-json.js';
import { UsageError } from '../base/errors.js';
import type { BuildStartMsg } from './messages.js';

/**
 * projectKeyOf is the identity of a build's project on the server, which keys its shared cache: the hash of the
 * identity the client routed the build by (context folder or URL, Dockerfile path, target). A client that sends none
 * gets one of what the server sees: its context folder's key or the URL it came from, the Dockerfile's name and the
 * target.
 */
export function projectKeyOf(start: Pick<BuildStartMsg, 'projectKey' | 'contextKey' | 'contextSource' | 'dockerfileName' | 'target'>): string {
  if (start.projectKey !== '') {
    if (!/^[a-f0-9]{64}$/.test(start.projectKey)) throw new UsageError(`Cannot use project key "${start.projectKey}": expected 64 hex digits`);
    return start.projectKey;
  }
  const context = start.contextSource?.url || start.contextKey;
  const identity = canonicalJson({ context, dockerfile: start.dockerfileName || 'Dockerfile', target: start.target });
  return createHash('sha256').update(identity).digest('hex');
}
