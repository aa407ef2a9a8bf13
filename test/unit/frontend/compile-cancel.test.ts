import { describe, expect, it } from 'vitest';
import { compileDockerfile } from '../../../frontend/index.js';
import { compileOptions, fakeResolver } from './compile-fixture.js';

// A conversion is synchronous work: before it gave the event loop a turn, an abort from a timer or a signal handler
// (Ctrl-C) ran only once the whole Dockerfile was converted (20000 ENV lines took over a minute).
describe('cancelling a slow Dockerfile conversion', () => {
  const slow = `FROM busybox\n${Array.from({ length: 1000 }, (_, i) => `ENV V${i}=${i}\nRUN echo $V${i}`).join('\n')}\n`;

  it('stops the conversion when its signal is aborted from another task', async () => {
    const ac = new AbortController();
    const reason = new Error('build cancelled');
    // The fake resolver answers in a microtask: without turns given, nothing would let the timer run.
    const resolver = fakeResolver();
    const timer = setTimeout(() => ac.abort(reason), 0);
    const result = await compileDockerfile(slow, compileOptions({ signal: ac.signal, resolveImageConfig: resolver })).then(
      () => 'finished',
      (err: unknown) => err,
    );
    clearTimeout(timer);
    expect(result).toBe(reason);
  }, 120_000);

  it('converts the same Dockerfile fully when nothing aborts it', async () => {
    const def = await compileDockerfile(slow, compileOptions());
    // busybox's one history entry, then one per ENV and RUN.
    expect(def.image.history).toHaveLength(1 + 2000);
  }, 120_000);
});
