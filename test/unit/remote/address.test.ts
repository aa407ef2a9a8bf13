import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../../remote/address.js';

describe('parseAddress', () => {
  it('reads unix and tcp addresses', () => {
    expect(parseAddress('unix:///run/tbuild/tbuild.sock')).toMatchObject({ kind: 'unix', path: '/run/tbuild/tbuild.sock', target: 'unix:///run/tbuild/tbuild.sock' });
    expect(parseAddress('tcp://0.0.0.0:8375')).toMatchObject({ kind: 'tcp', host: '0.0.0.0', port: 8375, target: '0.0.0.0:8375' });
    expect(parseAddress('tcp://builder.example')).toMatchObject({ port: 8375 });
    expect(parseAddress('tcp://[::1]:9000')).toMatchObject({ host: '[::1]', port: 9000 });
  });

  it('rejects other forms', () => {
    expect(() => parseAddress('unix://relative.sock')).toThrow(/absolute/);
    expect(() => parseAddress('http://x')).toThrow(/expected unix/);
    expect(() => parseAddress('tcp://host:99999')).toThrow(/port/);
  });
});
