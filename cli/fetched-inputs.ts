import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BuildCommand } from './build-command.js';

/** FetchedBuild is a build command whose standard-input or URL parts are files now; disposing it removes them. */
export interface FetchedBuild extends AsyncDisposable {
  readonly cmd: BuildCommand;
}

/**
 * fetchInputs saves what the command reads from standard input, or fetches its context from a URL, into a
 * temporary folder and points the request at it.
 */
export async function fetchInputs(cmd: BuildCommand, stdin: Readable, signal: AbortSignal): Promise<FetchedBuild> {
  const input = cmd.input;
  if (input === undefined) return { cmd, [Symbol.asyncDispose]: () => Promise.resolve() };
  const dir = await mkdtemp(join(tmpdir(), 'tbuild-input-'));
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const pointedAt = (request: Partial<BuildCommand['request']>): FetchedBuild => ({
    cmd: { ...cmd, request: { ...cmd.request, ...request } },
    [Symbol.asyncDispose]: dispose,
  });
  try {
    const controller = await import('../controller/index.js');
    if (input.kind === 'url') return pointedAt(await controller.fetchRemoteContext(input.url, dir, input.file, signal));
    const saved = join(dir, input.kind === 'dockerfile' ? 'Dockerfile' : 'stdin');
    await pipeline(stdin, createWriteStream(saved), { signal });
    if (input.kind === 'dockerfile') return pointedAt({ dockerfile: saved });
    return pointedAt(await controller.prepareFetchedContext(saved, dir, input.file, signal));
  } catch (err) {
    await dispose();
    throw err;
  }
}
