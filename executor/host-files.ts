import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readHostResolvConf, sandboxResolvConf } from './resolv-conf.js';
import type { ExecMount, NetworkMode } from './types.js';

/**
 * sandboxHosts is the /etc/hosts of a RUN, as BuildKit writes it (executor/oci/hosts.go): localhost and the sandbox
 * hostname, the IPv6 loopback names, then the `--add-host` entries. None of the host's own entries leak in.
 */
export function sandboxHosts(hostname: string, extraHosts: readonly { host: string; ip: string }[] = []): string {
  const extra = extraHosts.map((h) => `${h.ip}\t${h.host}\n`).join('');
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n${extra}`;
}

/** HostFilesInput is what the sandbox's /etc files are made of. */
export interface HostFilesInput {
  readonly hostname: string;
  readonly network: NetworkMode;
  readonly extraHosts?: readonly { host: string; ip: string }[];
}

/**
 * writeHostFiles writes the sandbox's /etc/resolv.conf (the host's, see sandboxResolvConf) and /etc/hosts (see
 * sandboxHosts) into `dir`, and returns the read-only bind mounts that put them in place. /etc/hostname is left to
 * the image, as in BuildKit: a RUN may write it, and the hostname itself comes from the UTS namespace.
 */
export async function writeHostFiles(dir: string, input: HostFilesInput): Promise<ExecMount[]> {
  const resolv = sandboxResolvConf(await readHostResolvConf(input.network), input.network);
  const files: readonly [string, string][] = [
    ['resolv.conf', resolv],
    ['hosts', sandboxHosts(input.hostname, input.extraHosts)],
  ];
  const mounts: ExecMount[] = [];
  for (const [name, content] of files) {
    const source = path.join(dir, name);
    await writeFile(source, content, { mode: 0o644 });
    mounts.push({ kind: 'bind', source, target: `/etc/${name}`, readonly: true, flags: ['nosuid', 'nodev', 'noexec'] });
  }
  return mounts;
}
