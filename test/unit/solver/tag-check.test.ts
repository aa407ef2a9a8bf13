import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../../base/errors.js';
import { formatAge, isUnreachable } from '../../../solver/ops/tag-check.js';

describe('tag check helpers', () => {
  it('renders ages in their two largest units', () => {
    expect([0, 250, 45_000, 200_000, 3_600_000, 5 * 3_600_000 + 12 * 60_000, 2 * 86_400_000 + 3 * 3_600_000 + 59_000].map(formatAge)).toEqual([
      '0s',
      '250ms',
      '45s',
      '3m20s',
      '1h',
      '5h12m',
      '2d3h',
    ]);
  });

  it('counts connection failures, server errors and rate limits as unreachable, never refusals', () => {
    const err = (status?: number, code?: RegistryError['code']) =>
      new RegistryError('x', { ...(status === undefined ? {} : { status }), ...(code === undefined ? {} : { code }) });
    expect([err(), err(500), err(503), err(429)].map(isUnreachable)).toEqual([true, true, true, true]);
    expect([err(404, 'REGISTRY_NOT_FOUND'), err(401, 'REGISTRY_AUTH'), err(403, 'REGISTRY_AUTH'), err(400), new Error('x')].map(isUnreachable)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
