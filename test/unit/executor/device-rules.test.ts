import { describe, expect, it } from 'vitest';
import { deviceRuleLine, SANDBOX_DEVICE_RULES } from '../../../executor/device-rules.js';

describe('deviceRuleLine', () => {
  it('writes rules as cgroup v1 takes them, wildcards as *', () => {
    expect(SANDBOX_DEVICE_RULES.map(deviceRuleLine)).toEqual([
      'a *:* rwm',
      'c *:* m',
      'b *:* m',
      'c 1:3 rwm',
      'c 1:8 rwm',
      'c 1:7 rwm',
      'c 5:0 rwm',
      'c 1:5 rwm',
      'c 1:9 rwm',
      'c 136:* rwm',
      'c 5:2 rwm',
      'c 10:200 rwm',
    ]);
  });
});
