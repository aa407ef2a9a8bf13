import { describe, expect, it } from 'vitest';
import { sandboxHosts } from '../../../executor/host-files.js';

describe('sandboxHosts', () => {
  it("writes BuildKit's /etc/hosts: localhost with the hostname, the IPv6 loopback names, then --add-host lines", () => {
    expect(sandboxHosts('buildkitsandbox')).toBe('127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n');
    expect(sandboxHosts('box', [{ host: 'db.internal', ip: '10.4.4.4' }, { host: 'v6', ip: '::2' }])).toBe(
      '127.0.0.1\tlocalhost box\n::1\tlocalhost ip6-localhost ip6-loopback\n10.4.4.4\tdb.internal\n::2\tv6\n',
    );
  });
});
