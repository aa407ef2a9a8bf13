import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../base/errors.js';
import { parseCommandArgs, splitCommandLine } from '../../../cli/command-line.js';
import { COMMANDS, PRUNE_OPTIONS } from '../../../cli/command-table.js';
import { formatAgo, humanDuration } from '../../../cli/human-duration.js';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error('expected a UsageError');
}

describe('command line', () => {
  it('moves global options given before the command after it', () => {
    expect(splitCommandLine(['--root', '/r', '--debug', 'images'])).toEqual({ command: 'images', args: ['--root', '/r', '--debug'] });
    expect(splitCommandLine(['--root=/r', 'build', '.', '--', 'x'])).toEqual({ command: 'build', args: ['.', '--root=/r', '--', 'x'] });
    expect(splitCommandLine(['--help'])).toEqual({ command: '--help', args: [] });
  });

  it('refuses an unknown global option and a global option without its value', () => {
    expect(usageMessage(() => splitCommandLine(['--nope', 'images']))).toBe('Cannot run tbuild: unknown global option "--nope"');
    expect(usageMessage(() => splitCommandLine(['--root']))).toBe('Cannot use --root: expected a value after it');
  });

  it('names the command and the option in every parse error', () => {
    expect(usageMessage(() => parseCommandArgs('prune', ['--nope'], PRUNE_OPTIONS))).toBe('Cannot run tbuild prune: unknown option "--nope"');
    expect(usageMessage(() => parseCommandArgs('prune', ['-x'], PRUNE_OPTIONS))).toBe('Cannot run tbuild prune: unknown option "-x"');
    expect(usageMessage(() => parseCommandArgs('prune', ['--all=x'], PRUNE_OPTIONS))).toBe('Cannot use --all="x": expected a boolean (true, false, 1, 0, t or f)');
    // A switch set to false is false, not absent: a flag whose default is true can be turned off.
    const switches = parseCommandArgs('prune', ['--all=false', '--force=1'], PRUNE_OPTIONS).values;
    expect([switches.all, switches.force]).toEqual([false, true]);
    expect(usageMessage(() => parseCommandArgs('prune', ['--filter'], PRUNE_OPTIONS))).toBe('Cannot use --filter: expected a value after it');
    expect(usageMessage(() => parseCommandArgs('prune', ['x'], PRUNE_OPTIONS, { positionals: false }))).toBe('Cannot run tbuild prune: unexpected argument "x"');
    expect(usageMessage(() => parseCommandArgs('images', ['--builder', 'x'], {}))).toBe('Cannot use --builder with tbuild images: the command does not use it');
  });

  it('gives every command --help and --debug', () => {
    for (const [name, spec] of Object.entries(COMMANDS)) {
      expect(parseCommandArgs(name, ['--help', '--debug'], spec.options).values).toMatchObject({ help: true, debug: true });
      expect(parseCommandArgs(name, ['-h'], spec.options).values).toMatchObject({ help: true });
    }
  });
});

describe('human durations', () => {
  it('says them as docker does, with singulars', () => {
    expect([0, 1000, 30_000, 60_000, 61_000, 120_000, 3_600_000, 7_200_000, 3 * 86_400_000, 15 * 86_400_000, 90 * 86_400_000, 800 * 86_400_000].map(humanDuration)).toEqual([
      'Less than a second', '1 second', '30 seconds', 'About a minute', 'About a minute', '2 minutes', 'About an hour', '2 hours', '3 days', '2 weeks', '3 months', '2 years',
    ]);
    expect(formatAgo(1000, 61_000)).toBe('About a minute ago');
  });
});
