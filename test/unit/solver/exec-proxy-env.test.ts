import { describe, expect, it } from 'vitest';
import { proxyEnvList } from '../../../solver/ops/exec.js';

describe('proxyEnvList', () => {
  it('lists each proxy in upper then lower case, in BuildKit order, ALL_PROXY included', () => {
    expect(proxyEnvList({ allProxy: 'socks://x', noProxy: 'n', httpProxy: 'http://a', httpsProxy: 'http://s', ftpProxy: 'f' })).toEqual([
      'HTTP_PROXY=http://a',
      'http_proxy=http://a',
      'HTTPS_PROXY=http://s',
      'https_proxy=http://s',
      'FTP_PROXY=f',
      'ftp_proxy=f',
      'NO_PROXY=n',
      'no_proxy=n',
      'ALL_PROXY=socks://x',
      'all_proxy=socks://x',
    ]);
  });

  it('skips absent and empty values', () => {
    expect(proxyEnvList(undefined)).toEqual([]);
    expect(proxyEnvList({ httpProxy: '', noProxy: 'localhost' })).toEqual(['NO_PROXY=localhost', 'no_proxy=localhost']);
  });
});
