import { describe, expect, it } from 'vitest';
import { DEFAULT_NAMESERVERS, isLoopbackAddress, sandboxResolvConf } from '../../../executor/resolv-conf.js';

const defaults = DEFAULT_NAMESERVERS.map((a) => `nameserver ${a}\n`).join('');

describe('sandboxResolvConf', () => {
  const host = '# managed\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nnameserver fd00::53\nsearch a.example\nsearch b.example c.example\noptions ndots:2\noptions edns0\nsortlist 10.0.0.0/8\n';

  it("drops loopback nameservers and comments for a private network, as BuildKit's legacy transform does", () => {
    expect(sandboxResolvConf(host, 'default')).toBe(
      'nameserver 10.0.0.2\nnameserver fd00::53\nsearch b.example c.example\noptions ndots:2 edns0\nsortlist 10.0.0.0/8\n',
    );
    expect(sandboxResolvConf(host, 'none')).toBe(sandboxResolvConf(host, 'default'));
  });

  it('keeps every nameserver for the host network', () => {
    expect(sandboxResolvConf(host, 'host')).toBe(
      'nameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nnameserver fd00::53\nsearch b.example c.example\noptions ndots:2 edns0\nsortlist 10.0.0.0/8\n',
    );
  });

  it("uses BuildKit's default public resolvers when none is left, or the host has no file", () => {
    expect(sandboxResolvConf('nameserver 127.0.0.1\noptions rotate\n', 'default')).toBe(`${defaults}options rotate\n`);
    expect(sandboxResolvConf('', 'host')).toBe(defaults);
    expect(sandboxResolvConf('nameserver not-an-address\n', 'default')).toBe(defaults);
  });
});

describe('isLoopbackAddress', () => {
  it('knows 127/8, ::1 in any spelling and IPv4-mapped loopback', () => {
    for (const a of ['127.0.0.1', '127.0.0.53', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.1', 'fe80::1%eth0', '::', 'localhost']) expect(isLoopbackAddress(a), a).toBe(false);
  });
});
