import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists } from '../base/fs.js';
import type { ExecMount } from './types.js';

const FALLBACK_RESOLV = 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n';

/**
 * sandboxHosts is the /etc/hosts of a RUN, as BuildKit writes it (executor/oci/hosts.go): localhost and the sandbox
 * hostname, the IPv6 loopback names, then the `--add-host` entries. None of the host's own entries leak in.
 */
export function sandboxHosts(hostname: string, extraHosts: readonly { host: string; ip: string }[] = []): string {
  const extra = extraHosts.map((h) => `${h.ip}\t${h.host}\n`).join('');
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n${extra}`;
}

/**
 * writeHostFiles writes the sandbox's /etc/resolv.conf (the host's) and /etc/hosts (see sandboxHosts) into `dir`, and
 * returns the read-only bind mounts that put them in place. /etc/hostname is left to the image, as in BuildKit: a RUN
 * may write it, and the hostname itself comes from the UTS namespace.
 */
export async function writeHostFiles(dir: string, hostname: string, extraHosts: readonly { host: string; ip: string }[] = []): Promise<ExecMount[]> {
  // The host's as it is, localhost nameservers included: unlike BuildKit's default network, tbuild's shares the host's.
  const resolv = (await readTextIfExists('/etc/resolv.conf')) ?? FALLBACK_RESOLV;
  const files: readonly [string, string][] = [
    ['resolv.conf', resolv],
    ['hosts', sandboxHosts(hostname, extraHosts)],
  ];
  const mounts: ExecMount[] = [];
  for (const [name, content] of files) {
    const source = path.join(dir, name);
    await writeFile(source, content, { mode: 0o644 });
    mounts.push({ kind: 'bind', source, target: `/etc/${name}`, readonly: true, flags: ['nosuid', 'nodev', 'noexec'] });
  }
  return mounts;
}
