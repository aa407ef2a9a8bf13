import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFaultLoop } from '../../bench/fault-loop.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { useBuildEnvironment } from '../helpers/build-env.js';

/** Kills per run: about 60-90 s on the shared machine; bench/fault-loop.sh runs the same loop longer. */
const KILLS = 8;

describe('the fault loop', () => {
  const env = useBuildEnvironment();

  it(`keeps the store free of damage through ${KILLS} builds killed with SIGKILL at random moments`, async () => {
    const seed = Number(process.env.TBUILD_FAULT_SEED ?? Date.now() % 2 ** 31);
    // The seed replays a failing schedule: TBUILD_FAULT_SEED=<seed>.
    console.log(`fault loop seed ${seed}`);
    const workDir = join(env.tmp.path, 'fault-loop');
    const report = await runFaultLoop({ entry: join(REPO_ROOT, 'bin', 'tbuild.js'), workDir, config: env.config, kills: KILLS, seed, log: (line) => console.log(line) });
    expect(report.failures, `seed ${seed}`).toEqual([]);
    expect(report.cleanDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // A schedule where every kill came after its build ended would test nothing.
    expect(report.killedRunning, `seed ${seed}`).toBeGreaterThan(KILLS / 3);
  }, 240_000);
});
