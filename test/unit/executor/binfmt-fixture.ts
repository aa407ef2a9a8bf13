import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** HANDLERS are binfmt_misc handler files as the kernel lists them (Debian's qemu-user-static registrations). */
export const HANDLERS = {
  aarch64: { magic: '7f454c460201010000000000000000000200b700', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  arm: { magic: '7f454c4601010100000000000000000002002800', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  s390x: { magic: '7f454c4602020100000000000000000000020016', mask: 'fffffffffffffffcfffffffffffffffffffeffff' },
  riscv64: { magic: '7f454c460201010000000000000000000200f300', mask: 'ffffffffffffff00fffffffffffffffffeffffff' },
  ppc64le: { magic: '7f454c4602010100000000000000000002001500', mask: 'fffffffffffffffcfffffffffffffffffeffff00' },
} as const;

/** handlerFile renders a handler as /proc/sys/fs/binfmt_misc/NAME reads. */
export function handlerFile(qemu: keyof typeof HANDLERS, o: { flags?: string; enabled?: boolean } = {}): string {
  const h = HANDLERS[qemu];
  return [
    o.enabled === false ? 'disabled' : 'enabled',
    `interpreter /usr/libexec/qemu-binfmt/${qemu}-binfmt-P`,
    `flags: ${o.flags ?? 'PF'}`,
    'offset 0',
    `magic ${h.magic}`,
    `mask ${h.mask}`,
    '',
  ].join('\n');
}

/** DEBIAN_FORMAT is /usr/share/binfmts/qemu-aarch64 as Debian's qemu-user-static ships it. */
export const DEBIAN_FORMAT = `package qemu-user-static
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
magic \\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00
offset 0
mask \\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff
credentials no
fix_binary yes
preserve yes
`;

/** FakeMachine is a temp folder standing for binfmt_misc, /usr/share/binfmts and /proc/cpuinfo. */
export interface FakeMachine extends AsyncDisposable {
  readonly binfmtDir: string;
  readonly formatsDir: string;
  readonly cpuinfo: string;
  readonly ia32Marker: string;
}

/** fakeMachine lays out a binfmt_misc folder with the given handler files (name → contents). */
export async function fakeMachine(handlers: Readonly<Record<string, string>>, o: { mounted?: boolean; cpuFlags?: string } = {}): Promise<FakeMachine> {
  const root = await mkdtemp(join(tmpdir(), 'tbuild-binfmt-'));
  const binfmtDir = join(root, 'binfmt_misc');
  const formatsDir = join(root, 'binfmts');
  await mkdir(binfmtDir);
  await mkdir(formatsDir);
  if (o.mounted !== false) {
    await writeFile(join(binfmtDir, 'status'), 'enabled\n');
    await writeFile(join(binfmtDir, 'register'), '');
  }
  for (const [name, text] of Object.entries(handlers)) await writeFile(join(binfmtDir, name), text);
  await writeFile(join(formatsDir, 'qemu-aarch64'), DEBIAN_FORMAT);
  const cpuinfo = join(root, 'cpuinfo');
  await writeFile(cpuinfo, `processor\t: 0\nflags\t\t: ${o.cpuFlags ?? 'fpu cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3'}\n`);
  const ia32Marker = join(root, 'vsyscall32');
  await writeFile(ia32Marker, '1\n');
  return { binfmtDir, formatsDir, cpuinfo, ia32Marker, [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }) };
}
