import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { seedBusybox, startRegistry, type TestRegistry } from '../fixtures/registry.js';
import { makeTempDir, writeMirrorConfig, type TempDir } from './cli.js';
import { startServe, type ServeProcess } from './remote-server.js';

/** BuildEnvironment is what an end-to-end build test needs: a seeded registry, a temp folder and a settings file. */
export interface BuildEnvironment {
  readonly registry: TestRegistry;
  readonly tmp: TempDir;
  /** Settings file that makes docker.io resolve from the test registry. */
  readonly config: string;
}

/**
 * useBuildEnvironment starts a loopback registry seeded with busybox and a temp folder before the suite's tests,
 * and removes both after them. Read its fields inside tests or hooks, once beforeAll has run.
 */
export function useBuildEnvironment(): BuildEnvironment {
  let registry: TestRegistry | undefined;
  let tmp: TempDir | undefined;
  let config: string | undefined;
  beforeAll(async () => {
    registry = await startRegistry();
    await seedBusybox(registry.host);
    tmp = await makeTempDir();
    config = await writeMirrorConfig(tmp.path, registry.host);
  });
  afterAll(async () => {
    await tmp?.[Symbol.asyncDispose]();
    await registry?.stop();
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`The build environment has no ${what} yet: use it inside a test or hook`);
    return value;
  };
  return {
    get registry() {
      return ready(registry, 'registry');
    },
    get tmp() {
      return ready(tmp, 'temp folder');
    },
    get config() {
      return ready(config, 'settings file');
    },
  };
}

/**
 * useRemoteBuilder runs `tbuild serve` on a unix socket in the build environment's temp folder, with the same registry
 * settings, for the suite's tests; `address` is its --builder value. Register it after useBuildEnvironment.
 */
export function useRemoteBuilder(env: BuildEnvironment): { readonly address: string } {
  let server: ServeProcess | undefined;
  let address: string | undefined;
  beforeAll(async () => {
    address = `unix://${join(env.tmp.path, 'serve.sock')}`;
    server = await startServe(['--addr', address, '--root', join(env.tmp.path, 'serve-root'), '--config', env.config]);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get address() {
      if (address === undefined) throw new Error('The remote builder is not started yet: use it inside a test or hook');
      return address;
    },
  };
}
