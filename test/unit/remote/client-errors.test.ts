import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { isUnreached, translateCallError } from '../../../remote/client-errors.js';

const unavailable = (details: string): Error => Object.assign(new Error(details), { code: status.UNAVAILABLE, details, metadata: new Metadata() });

describe('isUnreached', () => {
  it('tells a build that never reached its builder from one whose connection was lost', () => {
    const refused = unavailable('No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.2:1 (2026-12-07T15:00:00.000Z)');
    const before = translateCallError(refused, { address: 'tcp://127.0.0.2:1', started: false, cancelled: false });
    expect(before.message).toBe('Cannot connect to builder tcp://127.0.0.2:1: nothing listens there (connection refused)');
    expect(isUnreached(before)).toBe(true);
    const lost = translateCallError(unavailable('Connection dropped'), { address: 'tcp://127.0.0.2:1', started: true, cancelled: false });
    expect(lost.message).toBe('Cannot finish the build on builder tcp://127.0.0.2:1: connection lost');
    expect(isUnreached(lost)).toBe(false);
    expect(isUnreached(new Error('connect ECONNREFUSED'))).toBe(false);
  });
});
