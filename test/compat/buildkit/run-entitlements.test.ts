// Ported from moby/buildkit frontend/dockerfile/dockerfile_runnetwork_test.go: each case names its test function.
// BuildKit runs these under a matrix where the daemon grants or denies network.host; with tbuild the grant is the
// client's --allow, so "granted" passes --allow network.host and "denied" does not.
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe } from 'vitest';
import { buildkitSuite, fails } from './harness.js';

describe('BuildKit dockerfile_runnetwork_test.go', () => {
  const { build, port, succeeds } = buildkitSuite('dockerfile_runnetwork_test.go');
  // echoserver.NewTestServer("foo"): answers "foo" to every connection on loopback.
  let echo: Server | undefined;
  let echoPort = 0;
  beforeAll(async () => {
    echo = createServer((s) => s.end('foo\n'));
    await new Promise<void>((r) => echo?.listen(0, '127.0.0.1', r));
    echoPort = (echo.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((r) => (echo === undefined ? r() : echo.close(() => r())));
  });

  // dockerfile_runnetwork_test.go testRunDefaultNetwork
  port('testRunDefaultNetwork', async () => {
    await succeeds({ Dockerfile: '\nFROM busybox\nRUN ip link show eth0\n' });
  });

  // dockerfile_runnetwork_test.go testRunNoNetwork
  port('testRunNoNetwork', async () => {
    await succeeds({ Dockerfile: '\nFROM busybox\nRUN --network=none ! ip link show eth0\nRUN ip link show eth0' });
  });

  // dockerfile_runnetwork_test.go testRunHostNetwork
  const hostNetwork = (): string => `\nFROM busybox\nRUN --network=host nc 127.0.0.1 ${echoPort} | grep foo\nRUN ! nc 127.0.0.1 ${echoPort} | grep foo`;
  port('testRunHostNetwork', async () => {
    await succeeds({ Dockerfile: hostNetwork() }, { args: ['--allow', 'network.host'] });
  }, 'granted');
  port('testRunHostNetwork', async () => {
    fails(await build({ files: { Dockerfile: hostNetwork() }, output: 'none' }), 'entitlement network.host is not allowed');
  }, 'denied');

  // dockerfile_runnetwork_test.go testRunGlobalNetwork: BuildKit's force-network-mode=host is --network host. Only the
  // granted half: like buildx, tbuild's --network host asks for network.host itself, so there is no denied half.
  const globalNetwork = (): string => `\nFROM busybox\nRUN nc 127.0.0.1 ${echoPort} | grep foo\nRUN --network=none ! nc -z 127.0.0.1 ${echoPort}\n`;
  port('testRunGlobalNetwork', async () => {
    await succeeds({ Dockerfile: globalNetwork() }, { args: ['--allow', 'network.host', '--network', 'host'] });
  }, 'granted');
});
