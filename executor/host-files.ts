import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists } from '../base/fs.js';
import type { ExecMount } from './types.js';

const FALLBACK_RESOLV = 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n';
const FALLBACK_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n';

/**
 * writeHostFiles writes the sandbox's /etc/resolv.conf (the host's) and /etc/hosts (the host's plus the container
 * hostname) into `dir`, and returns the read-only bind mounts that put them in place. /etc/hostname is left to the
 * image, as in BuildKit: a RUN may write it, and the hostname itself comes from the UTS namespace.
 */
export async function writeHostFiles(dir: string, hostname: string, extraHosts: readonly { host: string; ip: string }[] = []): Promise<ExecMount[]> {
  const resolv = (await readTextIfExists('/etc/resolv.conf')) ?? FALLBACK_RESOLV;
  const hostsBase = (await readTextIfExists('/etc/hosts')) ?? FALLBACK_HOSTS;
  // `--add-host` entries come last, as Docker writes them.
  const extra = extraHosts.map((h) => `${h.ip}\t${h.host}\n`).join('');
  const hosts = `${hostsBase}${hostsBase.endsWith('\n') || hostsBase === '' ? '' : '\n'}127.0.0.1\t${hostname}\n${extra}`;
  const files: readonly [string, string][] = [
    ['resolv.conf', resolv],
    ['hosts', hosts],
  ];
  const mounts: ExecMount[] = [];
  for (const [name, content] of files) {
    const source = path.join(dir, name);
    await writeFile(source, content, { mode: 0o644 });
    mounts.push({ kind: 'bind', source, target: `/etc/${name}`, readonly: true });
  }
  return mounts;
}
