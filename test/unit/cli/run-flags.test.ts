import { describe, expect, it } from 'vitest';
import { parseBuildCommand } from '../../../cli/build-command.js';
import { parseAddHost, parseShmSize, parseUlimit } from '../../../cli/run-flags.js';
import { parseSecret } from '../../../cli/session-flags.js';

/** PLACE is a command's folder and an empty environment. */
const PLACE = { cwd: '/w', env: {} };

describe('RUN settings flags', () => {
  it('reads --add-host as HOST:IP or HOST=IP, IPv6 included, and refuses what is not an address', () => {
    expect(parseAddHost('db:10.0.0.5')).toEqual({ host: 'db', ip: '10.0.0.5' });
    expect(parseAddHost('db=10.0.0.5')).toEqual({ host: 'db', ip: '10.0.0.5' });
    expect(parseAddHost('v6:2001:db8::33')).toEqual({ host: 'v6', ip: '2001:db8::33' });
    expect(parseAddHost('v6=[::1]')).toEqual({ host: 'v6', ip: '::1' });
    expect(() => parseAddHost('db')).toThrow(/--add-host "db"/);
    expect(() => parseAddHost('db:not-an-ip')).toThrow(/valid IP/);
    expect(() => parseAddHost(':10.0.0.1')).toThrow(/HOST:IP/);
  });

  it('reads --shm-size in bytes with k, m and g as powers of 1024', () => {
    expect(parseShmSize('64m')).toBe(64 * 1024 ** 2);
    expect(parseShmSize('1g')).toBe(1024 ** 3);
    expect(parseShmSize('512k')).toBe(512 * 1024);
    expect(parseShmSize('4096')).toBe(4096);
    expect(parseShmSize('2GB')).toBe(2 * 1024 ** 3);
    expect(() => parseShmSize('lots')).toThrow(/--shm-size "lots"/);
    expect(() => parseShmSize('0')).toThrow(/--shm-size/);
  });

  it('reads --ulimit NAME=SOFT[:HARD] for the limits docker knows', () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({ name: 'nofile', soft: 1024, hard: 2048 });
    expect(parseUlimit('nproc=64')).toEqual({ name: 'nproc', soft: 64, hard: 64 });
    expect(() => parseUlimit('files=1')).toThrow(/NAME one of/);
    expect(() => parseUlimit('nofile=10:5')).toThrow(/soft limit/);
    expect(() => parseUlimit('memlock=-1:-1')).toThrow(/unlimited/);
  });

  it('puts them on the build request, leaving them out when not given', () => {
    const cmd = parseBuildCommand(['--add-host', 'a:1.2.3.4', '--shm-size', '1g', '--ulimit', 'core=0', '.'], PLACE);
    expect(cmd.request.extraHosts).toEqual([{ host: 'a', ip: '1.2.3.4' }]);
    expect(cmd.request.shmSizeBytes).toBe(1024 ** 3);
    expect(cmd.request.ulimits).toEqual([{ name: 'core', soft: 0, hard: 0 }]);
    const plain = parseBuildCommand(['.'], PLACE).request;
    expect([plain.extraHosts, plain.shmSizeBytes, plain.ulimits]).toEqual([undefined, undefined, undefined]);
  });
});

describe('--secret forms', () => {
  it('reads id=X alone as the variable X when it is set, else as the file X, as BuildKit does', () => {
    const env = { TBUILD_TEST_SECRET: 'value', TOKEN: 't0k' };
    const value = (v: string) => ({ kind: 'value', value: Buffer.from(v) });
    expect(parseSecret('id=TBUILD_TEST_SECRET', { cwd: '/w', env })).toEqual({ id: 'TBUILD_TEST_SECRET', ...value('value') });
    expect(parseSecret('id=TBUILD_TEST_SECRET', PLACE)).toEqual({ id: 'TBUILD_TEST_SECRET', kind: 'file', path: '/w/TBUILD_TEST_SECRET' });
    expect(parseSecret('id=tok,src=/run/tok', PLACE)).toEqual({ id: 'tok', kind: 'file', path: '/run/tok' });
    expect(parseSecret('id=tok,env=TOKEN', { cwd: '/w', env })).toEqual({ id: 'tok', ...value('t0k') });
    expect(parseSecret('type=env,id=TOKEN', { cwd: '/w', env })).toEqual({ id: 'TOKEN', ...value('t0k') });
  });

  it('gives no secret for a variable that is not set, so a RUN that requires it fails', () => {
    expect(parseSecret('id=tok,env=TOKEN', PLACE)).toBeUndefined();
  });
});
