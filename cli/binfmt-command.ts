import type { RunnablePlatforms } from '../controller/index.js';
import { parseCommandArgs } from './command-line.js';
import { BINFMT_OPTIONS } from './command-table.js';

/** BINFMT_HELP is the usage text of `tbuild binfmt`. */
export const BINFMT_HELP = `Usage: tbuild binfmt [--install ARCH,...] [--uninstall ARCH,...]

Register QEMU's user-mode emulators (Debian's qemu-user-static) with the kernel's binfmt_misc, with the F flag, so
RUN steps of other architectures run under emulation. Without options, list the platforms this machine can build
and the emulators registered. Handlers that exist are kept; --install only adds.

Options:
  --install ARCHS     Register emulators: arm64,arm,s390x,... (linux/arm64 or QEMU's names, as aarch64, work too)
  --uninstall ARCHS   Remove the handlers that emulate these architectures
`;

function architectures(value: string | undefined): string[] {
  return (value ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
}

/** renderPlatforms lists what a machine builds and its emulators, one a line. */
export function renderPlatforms(runnable: RunnablePlatforms, platformList: (r: RunnablePlatforms) => string): string {
  const lines = [`Platforms:\t${platformList(runnable)}`];
  if (runnable.binfmt !== 'enabled') lines.push(`binfmt_misc:\t${runnable.binfmt === 'not-mounted' ? 'not mounted' : 'disabled'}`);
  const emulators = [
    ...runnable.emulated.map((e) => `  ${e.handler}\t${e.platform.os}/${e.platform.architecture}${e.platform.variant === undefined ? '' : `/${e.platform.variant}`}\t${e.interpreter}`),
    ...runnable.unusable.map((u) => `  ${u.handler}\t(${u.reason === 'disabled' ? 'disabled' : 'no F flag: not usable in a sandbox'})\t${u.interpreter}`),
  ];
  if (emulators.length > 0) lines.push('Emulators:', ...new Set(emulators));
  return `${lines.join('\n')}\n`;
}

/** binfmtCommand runs `tbuild binfmt`. */
export async function binfmtCommand(args: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs('binfmt', args, BINFMT_OPTIONS, { positionals: false });
  if (values.help === true) {
    process.stdout.write(BINFMT_HELP);
    return 0;
  }
  const { buildablePlatforms, installEmulators, platformList, uninstallEmulators } = await import('../controller/index.js');
  const removed = await uninstallEmulators(architectures(values.uninstall));
  const added = await installEmulators(architectures(values.install));
  for (const c of [...removed, ...added]) process.stdout.write(`${c.architecture}: ${c.outcome} (${c.handler})\n`);
  process.stdout.write(renderPlatforms(await buildablePlatforms(), platformList));
  return 0;
}
