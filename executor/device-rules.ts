/** DeviceRule is one runtime-spec `linux.resources.devices` entry; no type, major or minor means any. */
export interface DeviceRule {
  readonly allow: boolean;
  readonly type?: 'a' | 'b' | 'c';
  readonly major?: number;
  readonly minor?: number;
  readonly access: string;
}

const allowChar = (major: number, minor?: number): DeviceRule => ({ allow: true, type: 'c', major, ...(minor === undefined ? {} : { minor }), access: 'rwm' });

/**
 * SANDBOX_DEVICE_RULES are the device-cgroup rules of a RUN, as BuildKit's spec gives them: containerd's default
 * denies every device, then runc's allowed list lets any node be created but only these be opened: null, zero, full,
 * random, urandom, tty, the pseudo-terminals and tun. Without them, RUN (real root with CAP_MKNOD) could create and
 * open the builder host's disks.
 */
export const SANDBOX_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  allowChar(1, 3),
  allowChar(1, 8),
  allowChar(1, 7),
  allowChar(5, 0),
  allowChar(1, 5),
  allowChar(1, 9),
  allowChar(136),
  allowChar(5, 2),
  allowChar(10, 200),
];

/** INSECURE_DEVICE_RULES let RUN --security=insecure open every device, as BuildKit's privileged mode does. */
export const INSECURE_DEVICE_RULES: readonly DeviceRule[] = [{ allow: true, access: 'rwm' }];

/** deviceRuleLine renders a rule as cgroup v1 writes it to devices.allow or devices.deny ("c 1:3 rwm", "a *:* rwm"). */
export function deviceRuleLine(rule: DeviceRule): string {
  return `${rule.type ?? 'a'} ${rule.major ?? '*'}:${rule.minor ?? '*'} ${rule.access}`;
}
