import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../bench/fault-kinds.js';
import { runFaultLoop } from '../../bench/fault-loop.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

/** One kill of each kind (build, pull, push, cache, prune, serve): about 60-90 s; bench/fault-loop.sh runs the loop longer. */
const KILLS = FAULT_KINDS.length;

describe('the fault loop', () => {
  const env = useBuildEnvironment();

  it(`keeps the store free of damage through a kill of each kind of work (${FAULT_KINDS.join(', ')}) at a random moment`, async () => {
    const seed = Number(process.env.TBUILD_FAULT_SEED ?? Date.now() % 2 ** 31);
    // The seed replays a failing schedule: TBUILD_FAULT_SEED=<seed>.
    console.log(`fault loop seed ${seed}`);
    const workDir = join(env.tmp.path, 'fault-loop');
    const report = await runFaultLoop({ entry: join(REPO_ROOT, 'bin', 'tbuild.js'), workDir, config: env.config, registry: env.registry.host, kills: KILLS, seed, log: (line) => console.log(line) });
    expect(report.failures, `seed ${seed}`).toEqual([]);
    expect(report.cleanDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect([...report.byKind.values()].map((f) => f.kills)).toEqual(FAULT_KINDS.map(() => 1));
    // A schedule where every kill came after its work ended would test little (work can end sooner than measured).
    expect(report.killedRunning, `seed ${seed}`).toBeGreaterThanOrEqual(2);
  }, 300_000);
});
