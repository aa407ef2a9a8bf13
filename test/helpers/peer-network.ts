import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEER_NAME_ADDRESS is what the peer's DNS server answers for any name. */
export const PEER_NAME_ADDRESS = '192.0.2.123';

/**
 * PeerNetwork is a TCP server in a network namespace this test made, reached from the host through a veth pair of
 * its own (10.213.N.1 on the host side, 10.213.N.2 inside): an outside address that is neither the host's loopback
 * nor the internet. It also answers DNS questions on UDP port 53 (every name is PEER_NAME_ADDRESS). Disposing it stops
 * the servers and removes the namespace and the pair.
 */
export interface PeerNetwork extends AsyncDisposable {
  readonly address: string;
  readonly port: number;
  /** What the server writes to every connection, then closes it. */
  readonly reply: string;
}

// A TCP server writing argv[1] to every connection, and a DNS server on UDP 53 answering every A question with
// PEER_NAME_ADDRESS (no answer for other types), both on argv[3].
const SERVER = `
const [reply, port, address] = process.argv.slice(1);
const dns = require('dgram').createSocket('udp4');
dns.on('message', (q, from) => {
  let end = 12;
  while (q[end] !== 0) end += q[end] + 1;
  const question = q.subarray(12, end + 5);
  const isA = q.readUInt16BE(end + 1) === 1;
  const head = Buffer.alloc(12);
  q.copy(head, 0, 0, 2);
  head.writeUInt16BE(0x8180, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(isA ? 1 : 0, 6);
  const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...'${PEER_NAME_ADDRESS}'.split('.').map(Number)]);
  dns.send(Buffer.concat([head, question, ...(isA ? [answer] : [])]), from.port, from.address);
});
dns.bind(53, address, () => require('net').createServer((s) => s.end(reply + '\\n')).listen(Number(port), address, () => console.log('ready')));
`;

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** startPeerNetwork makes the namespace, the veth pair and the server; it needs root and iproute2. */
export async function startPeerNetwork(): Promise<PeerNetwork> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tbuild-peer-'));
  const nsFile = path.join(dir, 'netns');
  const subnet = randomInt(1, 250);
  const hostEnd = `tbp${randomBytes(3).toString('hex')}`;
  const address = `10.213.${subnet}.2`;
  const port = 8080;
  const reply = `peer-${randomBytes(4).toString('hex')}`;
  let server: ChildProcess | undefined;
  const dispose = async (): Promise<void> => {
    if (server !== undefined) await stop(server);
    await run('ip', ['link', 'del', hostEnd]).catch((err: unknown) => {
      if (!String(err).includes('Cannot find device')) throw err;
    });
    await run('umount', [nsFile]).catch((err: unknown) => {
      if (!String(err).includes('not mounted')) throw err;
    });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(nsFile, '');
    await run('unshare', [`--net=${nsFile}`, 'true']);
    // Made inside the namespace, the pair's other end is moved to this process's namespace (the host's).
    await run('nsenter', [`--net=${nsFile}`, '--', 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', hostEnd, 'netns', String(process.pid)]);
    await run('nsenter', [`--net=${nsFile}`, '--', 'sh', '-c', `ip addr add ${address}/30 dev eth0 && ip link set eth0 up && ip link set lo up`]);
    await run('sh', ['-c', `ip addr add 10.213.${subnet}.1/30 dev ${hostEnd} && ip link set ${hostEnd} up`]);
    server = spawn('nsenter', [`--net=${nsFile}`, '--', process.execPath, '-e', SERVER, reply, String(port), address], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: server.stdout ?? process.stdin });
    const [first] = (await Promise.race([once(lines, 'line'), once(server, 'exit').then(() => ['exited'])])) as string[];
    lines.close();
    if (first !== 'ready') throw new Error(`Cannot start the peer server: ${first}`);
    return { address, port, reply, [Symbol.asyncDispose]: dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
