import { describe, expect, it } from 'vitest';
import { buildRuntimeSpec, DEFAULT_CAPABILITIES, type SpecInput } from '../../../executor/index.js';

const CAP_BITS: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7,
  CAP_SETPCAP: 8, CAP_NET_BIND_SERVICE: 10, CAP_NET_RAW: 13, CAP_SYS_CHROOT: 18, CAP_MKNOD: 27, CAP_AUDIT_WRITE: 29,
  CAP_SETFCAP: 31,
};

const base: SpecInput = {
  args: ['sh', '-c', 'true'],
  env: ['HOME=/root'],
  cwd: '/src',
  user: { uid: 0, gid: 0, additionalGids: [] },
  hostname: 'box',
  network: 'none',
  root: { kind: 'overlay', lowerdirs: ['/l/stub', '/l/1', '/l/0'], upperdir: '/u', workdir: '/w' },
  mounts: [{ kind: 'bind', source: '/host/resolv.conf', target: '/etc/resolv.conf', readonly: true }],
};

describe('buildRuntimeSpec', () => {
  it('mounts overlays with userxattr and no cgroup filesystem when rootless', () => {
    const overlay = { kind: 'overlay' as const, target: '/data', lowerdirs: ['/l/a'], upperdir: '/u2', workdir: '/w2', readonly: false, stageDir: '/stage' };
    const rootless = buildRuntimeSpec({ ...base, mounts: [overlay], rootless: { ttyGroupMapped: true } });
    expect(rootless.mounts.find((m) => m.destination === '/')?.options).toContain('userxattr');
    expect(rootless.mounts.find((m) => m.destination === '/data')?.options).toContain('userxattr');
    expect(rootless.mounts.some((m) => m.type === 'cgroup')).toBe(false);
    expect(rootless.mounts.find((m) => m.type === 'devpts')?.options).toContain('gid=5');
    // With the user alone mapped, the kernel refuses a devpts of group tty.
    const single = buildRuntimeSpec({ ...base, rootless: { ttyGroupMapped: false } });
    expect(single.mounts.find((m) => m.type === 'devpts')?.options).not.toContain('gid=5');
    const rootful = buildRuntimeSpec({ ...base, mounts: [overlay] });
    expect(rootful.mounts.find((m) => m.destination === '/')?.options).not.toContain('userxattr');
    expect(rootful.mounts.some((m) => m.type === 'cgroup')).toBe(true);
  });

  it('uses Docker default capabilities (00000000a80425fb)', () => {
    let mask = 0n;
    for (const cap of DEFAULT_CAPABILITIES) mask |= 1n << BigInt(CAP_BITS[cap] ?? 63);
    expect(mask.toString(16).padStart(16, '0')).toBe('00000000a80425fb');
    const caps = buildRuntimeSpec(base).process.capabilities;
    expect(caps.bounding).toEqual(DEFAULT_CAPABILITIES);
    expect(caps.effective).toEqual(DEFAULT_CAPABILITIES);
    expect(caps.inheritable).toEqual([]);
  });

  it('sizes /dev/shm and sets --ulimit limits over the default open-file limit', () => {
    const spec = buildRuntimeSpec({ ...base, nofile: 20000, shmSizeBytes: 128 * 1024 ** 2, ulimits: [{ name: 'nofile', soft: 10, hard: 20 }, { name: 'nproc', soft: 5, hard: 5 }] });
    expect(spec.process.rlimits).toEqual([
      { type: 'RLIMIT_NOFILE', soft: 10, hard: 20 },
      { type: 'RLIMIT_NPROC', soft: 5, hard: 5 },
    ]);
    expect(spec.mounts.find((m) => m.destination === '/dev/shm')?.options).toContain('size=131072k');
    const plain = buildRuntimeSpec({ ...base, nofile: 20000 });
    expect(plain.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 20000, hard: 20000 }]);
    expect(plain.mounts.find((m) => m.destination === '/dev/shm')?.options).toContain('size=65536k');
  });

  it('gives a non-root user no effective capabilities but keeps the bounding set', () => {
    const spec = buildRuntimeSpec({ ...base, user: { uid: 1000, gid: 1000, additionalGids: [20] } });
    expect(spec.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [20] });
    expect(spec.process.capabilities.effective).toEqual([]);
    expect(spec.process.capabilities.permitted).toEqual([]);
    expect(spec.process.capabilities.bounding).toEqual(DEFAULT_CAPABILITIES);
  });

  it('carries the overlay as the first mount, then the standard and extra mounts', () => {
    const spec = buildRuntimeSpec(base);
    expect(spec.root).toEqual({ path: 'rootfs', readonly: false });
    expect(spec.mounts.map((m) => `${m.destination}:${m.type}`)).toEqual([
      '/:overlay', '/proc:proc', '/dev:tmpfs', '/dev/pts:devpts', '/dev/shm:tmpfs', '/dev/mqueue:mqueue', '/sys:sysfs',
      '/sys/fs/cgroup:cgroup', '/etc/resolv.conf:bind',
    ]);
    expect(spec.mounts[0]?.options).toEqual(['lowerdir=/l/stub:/l/1:/l/0', 'upperdir=/u', 'workdir=/w']);
    expect(spec.mounts.find((m) => m.destination === '/sys')?.options).toContain('ro');
    expect(spec.mounts.at(-1)).toEqual({
      destination: '/etc/resolv.conf', type: 'bind', source: '/host/resolv.conf', options: ['rbind', 'ro'],
    });
  });

  it("gives RUN --mount mounts BuildKit's options: bare binds, nosuid tmpfs, and a bind's own flags", () => {
    const mounts = buildRuntimeSpec({
      ...base,
      mounts: [
        { kind: 'bind', source: '/s', target: '/ctx', readonly: true },
        { kind: 'bind', source: '/c', target: '/cache', readonly: false },
        { kind: 'bind', source: '/f', target: '/run/secrets/x', readonly: true, flags: ['nosuid', 'nodev', 'noexec'] },
        { kind: 'tmpfs', target: '/t', sizeBytes: 1024 },
      ],
    }).mounts.slice(-4);
    expect(mounts.map((m) => m.options)).toEqual([
      ['rbind', 'ro'],
      ['rbind', 'rw'],
      ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
      ['nosuid', 'mode=1777', 'size=1024'],
    ]);
  });

  it('omits the root mount for a prepared rootfs', () => {
    const spec = buildRuntimeSpec({ ...base, root: { kind: 'prepared' } });
    expect(spec.mounts[0]?.destination).toBe('/proc');
  });

  it("mounts the cgroup filesystem as BuildKit's withCGroup does, writable only for --security=insecure", () => {
    const cgroupfs = (security: NonNullable<SpecInput['security']>): unknown =>
      buildRuntimeSpec({ ...base, security }).mounts.find((m) => m.destination === '/sys/fs/cgroup');
    expect(cgroupfs('sandbox')).toEqual({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] });
    expect(cgroupfs('insecure')).toEqual({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev'] });
  });

  it('creates an empty network namespace for none, joins the one made for default, and keeps the host one for host', () => {
    const namespaces = (network: SpecInput['network'], netnsPath?: string): unknown =>
      buildRuntimeSpec({ ...base, network, ...(netnsPath === undefined ? {} : { netnsPath }) }).linux.namespaces;
    const common = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
    expect(namespaces('none')).toEqual([...common, { type: 'network' }]);
    expect(namespaces('host')).toEqual(common);
    expect(namespaces('default', '/state/netns-1-ab')).toEqual([...common, { type: 'network', path: '/state/netns-1-ab' }]);
    expect(() => namespaces('default')).toThrow('without its namespace');
  });

  it("without a process sandbox, shares the caller's PID namespace and binds its /proc recursively, still masked", () => {
    const spec = buildRuntimeSpec({ ...base, processSandbox: false, rootless: { ttyGroupMapped: true } });
    expect(spec.linux.namespaces).toEqual([{ type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }]);
    const procs = spec.mounts.filter((m) => m.destination === '/proc');
    expect(procs).toEqual([{ destination: '/proc', type: 'bind', source: '/proc', options: ['rbind', 'nosuid', 'noexec', 'nodev'] }]);
    // BuildKit drops the /proc masks there; tbuild lays them over the bound /proc as over a new one.
    expect(spec.linux.maskedPaths).toEqual(buildRuntimeSpec(base).linux.maskedPaths);
    expect(spec.linux.readonlyPaths).toContain('/proc/sys');
    expect(spec.mounts.filter((m) => m.destination !== '/proc')).toEqual(buildRuntimeSpec({ ...base, rootless: { ttyGroupMapped: true } }).mounts.filter((m) => m.destination !== '/proc'));
    expect(buildRuntimeSpec({ ...base, processSandbox: true })).toEqual(buildRuntimeSpec(base));
  });

  it('masks and protects /proc paths like runc', () => {
    const { linux } = buildRuntimeSpec(base);
    expect(linux.maskedPaths).toContain('/proc/kcore');
    expect(linux.maskedPaths).toContain('/sys/firmware');
    expect(linux.readonlyPaths).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  });

  it('adds a default PATH, keeps cwd, hostname and sets rlimits', () => {
    const spec = buildRuntimeSpec(base);
    expect(spec.process.env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root']);
    expect(spec.process.cwd).toBe('/src');
    expect(spec.hostname).toBe('box');
    expect(spec.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }]);
    expect(spec.process.noNewPrivileges).toBe(false);
    expect(buildRuntimeSpec({ ...base, env: ['PATH=/bin'], nofile: 1024 }).process.env).toEqual(['PATH=/bin']);
  });

  it("sets HOME from the user's home when the environment has none or an empty one, as runc does", () => {
    const user = { uid: 1000, gid: 1000, additionalGids: [], home: '/home/app' };
    expect(buildRuntimeSpec({ ...base, env: ['PATH=/bin'], user }).process.env).toEqual(['PATH=/bin', 'HOME=/home/app']);
    expect(buildRuntimeSpec({ ...base, env: ['HOME=', 'PATH=/bin'], user }).process.env).toEqual(['PATH=/bin', 'HOME=/home/app']);
    expect(buildRuntimeSpec({ ...base, env: ['HOME=/custom', 'PATH=/bin'], user }).process.env).toEqual(['HOME=/custom', 'PATH=/bin']);
  });

  it("denies every device but BuildKit's allowed ones, and allows all with --security=insecure", () => {
    const devices = buildRuntimeSpec(base).linux.resources.devices ?? [];
    expect(devices[0]).toEqual({ allow: false, access: 'rwm' });
    expect(devices).toContainEqual({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
    expect(devices).toContainEqual({ allow: true, type: 'b', access: 'm' });
    expect(devices.filter((d) => d.allow && d.type === 'b' && d.access !== 'm')).toEqual([]);
    expect(buildRuntimeSpec({ ...base, security: 'insecure' }).linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    const limited = buildRuntimeSpec({ ...base, cgroup: { path: 'tbuild/x', resources: { pidsMax: 10 } } }).linux;
    expect(limited.resources).toEqual({ devices, pids: { limit: 10 } });
    expect(limited.cgroupsPath).toBe('tbuild/x');
  });

  it('is plain JSON data', () => {
    const spec = buildRuntimeSpec(base);
    expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
  });
});
