import { describe, expect, it } from 'vitest';
import { execSettings } from '../../../controller/debug-target.js';

describe('execSettings', () => {
  it("reads a RUN's environment, folder, user and network from its recorded key preimage", () => {
    const preimage = { type: 'op', kind: 'exec', fields: { meta: { args: ['sh'], env: ['A=1', 'PATH=/bin'], cwd: '/work', user: '1234' }, network: 'none' }, output: 0, inputs: [] };
    expect(execSettings(preimage)).toEqual({ process: { env: ['A=1', 'PATH=/bin'], cwd: '/work', user: '1234' }, network: 'none' });
    expect(execSettings({ ...preimage, fields: { ...preimage.fields, network: undefined } })?.network).toBe('default');
  });

  it('knows nothing of steps that are no RUN, or of preimages it cannot read', () => {
    expect(execSettings({ type: 'op', kind: 'file', fields: {}, output: 0, inputs: [] })).toBeUndefined();
    expect(execSettings({ type: 'rerun', key: 'sha256:a', content: 'sha256:b' })).toBeUndefined();
    expect(execSettings({ type: 'op', kind: 'exec', fields: { meta: { env: 'A=1', cwd: '/', user: '' } } })).toBeUndefined();
    expect(execSettings(undefined)).toBeUndefined();
  });
});
