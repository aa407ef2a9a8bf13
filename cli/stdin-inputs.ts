import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BuildCommand } from './build-command.js';

/** StdinBuild is a build command whose standard-input parts are files now; disposing it removes them. */
export interface StdinBuild extends AsyncDisposable {
  readonly cmd: BuildCommand;
}

/**
 * readStdinInputs saves what the command reads from standard input, or fetches its context from a URL, into a
 * temporary folder and points the request at it.
 */
export async function readStdinInputs(cmd: BuildCommand, input: Readable, signal: AbortSignal): Promise<StdinBuild> {
  const stdin = cmd.stdin;
  if (stdin === undefined) return { cmd, [Symbol.asyncDispose]: () => Promise.resolve() };
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-stdin-'));
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const controller = await import('../controller/index.js');
    if (stdin.kind === 'url') {
      const ctx = await controller.fetchRemoteContext(stdin.url, dir, stdin.file, signal);
      return { cmd: { ...cmd, request: { ...cmd.request, contextDir: ctx.contextDir, dockerfile: ctx.dockerfile } }, [Symbol.asyncDispose]: dispose };
    }
    const saved = join(dir, stdin.kind === 'dockerfile' ? 'Dockerfile' : 'stdin');
    await pipeline(input, createWriteStream(saved), { signal });
    if (stdin.kind === 'dockerfile') return { cmd: { ...cmd, request: { ...cmd.request, dockerfile: saved } }, [Symbol.asyncDispose]: dispose };
    const ctx = await controller.prepareStdinContext(saved, dir, stdin.file, signal);
    return { cmd: { ...cmd, request: { ...cmd.request, contextDir: ctx.contextDir, dockerfile: ctx.dockerfile } }, [Symbol.asyncDispose]: dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}
