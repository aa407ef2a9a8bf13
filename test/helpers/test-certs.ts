import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  await execFileAsync('openssl', [...args], { cwd });
}

/** makeCa makes a self-signed CA `NAME.pem` (key `NAME.key`) in dir. */
export async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`], dir);
}

/** makeCert makes `NAME.pem` (key `NAME.key`) signed by the CA `ca`, with subject CN `cn` (NAME by default) and the given extensions. */
export async function makeCert(dir: string, ca: string, name: string, ext: string, cn = name): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), `${ext}\n`);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`], dir);
}
