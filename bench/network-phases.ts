/**
 * Times where a RUN's default network spends its time, phase by phase, in one run (as root): making the network
 * namespace, spawning slirp4netns through unshare (the namespace made first, then the spawn call), waiting for it to
 * be ready, writing the step's resolv.conf (default network against host network), tearing it down; and a network
 * taken from a pool of ready ones, as builds get theirs. Each round runs every phase once, in turn, so all phases are
 * measured under the same load; medians and the 90th percentile are printed.
 * Usage: node dist/bench/network-phases.js [--runs N] [--pause MS]
 */
import { closeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createNetworkPool } from '../executor/index.js';
import { readHostResolvConf, sandboxResolvConf } from '../executor/resolv-conf.js';
import { prepareNetwork } from '../executor/sandbox-network.js';
import { openNewNetworkNamespace } from '../native/index.js';

const PHASES = [
  'namespace: unshare(CLONE_NEWNET) + open',
  'namespace: close',
  'slirp4netns: namespace + spawn (sync)',
  'slirp4netns: spawn to ready',
  'resolv.conf, default network',
  'resolv.conf, host network',
  'teardown: slirp4netns quits, namespace closed',
  'pool: take a ready network + ready()',
] as const;
type Phase = (typeof PHASES)[number];

function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? 0;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('network-phases needs root (network namespaces)');
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, pause: { type: 'string', default: '100' } } });
  const runs = Number(values.runs);
  const pause = Number(values.pause);
  const times = new Map<Phase, number[]>(PHASES.map((p) => [p, []]));
  const record = (phase: Phase, ms: number, keep: boolean): void => void (keep && times.get(phase)?.push(ms));
  await using pool = createNetworkPool({ targetSize: 1 });
  const signal = AbortSignal.timeout(10 * 60_000);
  for (let i = -3; i < runs; i++) {
    const keep = i >= 0;
    let t = performance.now();
    const fd = openNewNetworkNamespace();
    record('namespace: unshare(CLONE_NEWNET) + open', performance.now() - t, keep);
    t = performance.now();
    closeSync(fd);
    record('namespace: close', performance.now() - t, keep);

    t = performance.now();
    const network = prepareNetwork();
    const spawned = performance.now();
    record('slirp4netns: namespace + spawn (sync)', spawned - t, keep);
    await network.ready;
    record('slirp4netns: spawn to ready', performance.now() - spawned, keep);

    // Both read the same file: the order alternates so that neither always comes first after slirp4netns started.
    for (const mode of i % 2 === 0 ? (['default', 'host'] as const) : (['host', 'default'] as const)) {
      t = performance.now();
      sandboxResolvConf(await readHostResolvConf(mode), mode);
      record(mode === 'default' ? 'resolv.conf, default network' : 'resolv.conf, host network', performance.now() - t, keep);
    }

    t = performance.now();
    await network.stop();
    record('teardown: slirp4netns quits, namespace closed', performance.now() - t, keep);

    // The pool refilled during the pause after the last round's take, as it does while a step's result is committed.
    t = performance.now();
    const pooled = pool.acquire({ signal, argv: ['true'] });
    await pooled.ready();
    record('pool: take a ready network + ready()', performance.now() - t, keep);
    pooled.release();
    await pooled[Symbol.asyncDispose]();
    await sleep(pause);
  }
  const stats = pool.stats();
  console.log(`network phases, ${runs} rounds (${stats.taken} networks taken from the pool, ${stats.madeOnDemand} made on demand)`);
  for (const phase of PHASES) {
    const ms = times.get(phase) ?? [];
    console.log(`${phase.padEnd(48)} median ${quantile(ms, 0.5).toFixed(2).padStart(7)} ms   p90 ${quantile(ms, 0.9).toFixed(2).padStart(7)} ms`);
  }
}

await main();
