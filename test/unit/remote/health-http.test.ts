import { describe, expect, it } from 'vitest';
import { parseHealthAddress } from '../../../remote/health-http.js';

describe('parseHealthAddress', () => {
  it('reads HOST:PORT, [IPv6]:PORT and :PORT (every interface)', () => {
    expect(parseHealthAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseHealthAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(parseHealthAddress(':8376')).toEqual({ host: '::', port: 8376 });
    expect(parseHealthAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
  });

  it('refuses a missing port, a port over 65535 and a URL', () => {
    for (const bad of ['127.0.0.1', '127.0.0.1:70000', 'http://127.0.0.1:80', '::1:80']) {
      expect(() => parseHealthAddress(bad)).toThrow(`Cannot use --health-addr ${bad}: expected HOST:PORT, [IPv6]:PORT or :PORT`);
    }
  });
});
