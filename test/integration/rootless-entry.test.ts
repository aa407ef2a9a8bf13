import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUnprivilegedUser, type UnprivilegedUser } from '../helpers/unprivileged-user.js';

// With no unshare (nor newuidmap) on the PATH, a command that runs itself again in a user namespace cannot start: what
// answers here ran without one, as a command inside a RUN step or a locked-down container must be able to.
const NO_TOOLS = { PATH: '/nonexistent' };

describe('tbuild started by an ordinary user, for what needs no namespace', () => {
  let user: UnprivilegedUser;

  beforeAll(async () => {
    user = await createUnprivilegedUser({ subordinateIds: true });
  });

  afterAll(async () => {
    await user?.[Symbol.asyncDispose]();
  });

  it("prints a command's help and tbuild's version without running itself in a user namespace", async () => {
    const serve = await user.runTbuild(['serve', '--help'], { env: NO_TOOLS });
    expect(serve.code, serve.stderr).toBe(0);
    expect(serve.stdout).toContain('Usage: tbuild serve [OPTIONS]');
    expect(serve.stderr).toBe('');
    for (const args of [['build', '-h'], ['history', 'ls', '--help'], ['debug', 'shell', '--help']]) {
      const r = await user.runTbuild(args, { env: NO_TOOLS });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/^Usage: tbuild /);
    }
    const version = await user.runTbuild(['--version'], { env: NO_TOOLS });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/\d+\.\d+\.\d+/);
    const unknown = await user.runTbuild(['biuld', '.'], { env: NO_TOOLS });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "biuld"');
  });

  it('still runs a command that opens the store in a user namespace (so the PATH above would stop it)', async () => {
    const r = await user.runTbuild(['du'], { env: NO_TOOLS });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('newuidmap is not installed');
    expect(r.stderr).toMatch(/unshare/);
  });
});
