import { describe, expect, it } from 'vitest';
import { parseDaemonRequest } from '../../../cli/daemon-request.js';

describe('launcher request', () => {
  const request = {
    v: 1,
    umask: 18,
    argv: ['build', '.'],
    cwd: '/src',
    repo: '/opt/tbuild',
    node: '/usr/bin/node',
    stdout: { tty: false, columns: 0, rows: 0 },
    stderr: { tty: true, columns: 120, rows: 40 },
    env: ['PATH=/bin', 'EMPTY=', 'WITH_EQ=a=b', 'PATH=/shadowed', 'no-equals'],
  };

  it('reads the environment as getenv sees it', () => {
    const parsed = parseDaemonRequest(Buffer.from(JSON.stringify(request)));
    expect(parsed.env).toEqual({ PATH: '/bin', EMPTY: '', WITH_EQ: 'a=b' });
    expect(parsed.stderr).toEqual({ tty: true, columns: 120, rows: 40 });
    expect(parsed.umask).toBe(18);
  });

  it('refuses a request of another version', () => {
    expect(() => parseDaemonRequest(Buffer.from(JSON.stringify({ ...request, v: 2 })))).toThrow(/unknown version/);
  });
});
