import type { BuildRequest, RunResources } from '../controller/index.js';
import { message, type MessageOf } from './wire-schema.js';

/** RUN_RESOURCES carries `--resource` limits: 0 (or '') for a limit not given, as BuildKit's LinuxResources. */
const RUN_RESOURCES = message('RunResources', {
  memoryBytes: { no: 1, type: 'int64' },
  memorySwapBytes: { no: 2, type: 'int64' },
  cpuShares: { no: 3, type: 'uint64' },
  cpuPeriodUs: { no: 4, type: 'uint64' },
  cpuQuotaUs: { no: 5, type: 'int64' },
  cpusetCpus: { no: 6, type: 'string' },
  cpusetMems: { no: 7, type: 'string' },
});

/** RUN_SETTINGS carries `--add-host`, `--shm-size`, `--ulimit`, `--cgroup-parent` and `--resource` (0 / empty when not given). */
export const RUN_SETTINGS = message('RunSettings', {
  extraHosts: { no: 1, type: message('HostEntry', { host: { no: 1, type: 'string' }, ip: { no: 2, type: 'string' } }), repeated: true },
  shmSizeBytes: { no: 2, type: 'uint64' },
  ulimits: { no: 3, type: message('Ulimit', { name: { no: 1, type: 'string' }, soft: { no: 2, type: 'uint64' }, hard: { no: 3, type: 'uint64' } }), repeated: true },
  cgroupParent: { no: 4, type: 'string' },
  resources: { no: 5, type: RUN_RESOURCES },
});

/** RunSettingsMsg is the wire form of the RUN settings. */
export type RunSettingsMsg = MessageOf<typeof RUN_SETTINGS>;

type RunResourcesMsg = MessageOf<typeof RUN_RESOURCES>;

/** runSettingsMsg puts a request's RUN settings on the wire. */
export function runSettingsMsg(request: BuildRequest): RunSettingsMsg {
  const r = request.resources ?? {};
  return {
    extraHosts: request.extraHosts ?? [],
    shmSizeBytes: request.shmSizeBytes ?? 0,
    ulimits: request.ulimits ?? [],
    cgroupParent: request.cgroupParent ?? '',
    resources: {
      memoryBytes: r.memoryBytes ?? 0,
      memorySwapBytes: r.memorySwapBytes ?? 0,
      cpuShares: r.cpuShares ?? 0,
      cpuPeriodUs: r.cpuPeriodUs ?? 0,
      cpuQuotaUs: r.cpuQuotaUs ?? 0,
      cpusetCpus: r.cpusetCpus ?? '',
      cpusetMems: r.cpusetMems ?? '',
    },
  };
}

/** runResources turns the wire form of the limits back into those given (0 and '' are not given). */
function runResources(msg: RunResourcesMsg | undefined): RunResources | undefined {
  if (msg === undefined) return undefined;
  const out: RunResources = {
    ...(msg.memoryBytes === 0 ? {} : { memoryBytes: msg.memoryBytes }),
    ...(msg.memorySwapBytes === 0 ? {} : { memorySwapBytes: msg.memorySwapBytes }),
    ...(msg.cpuShares === 0 ? {} : { cpuShares: msg.cpuShares }),
    ...(msg.cpuPeriodUs === 0 ? {} : { cpuPeriodUs: msg.cpuPeriodUs }),
    ...(msg.cpuQuotaUs === 0 ? {} : { cpuQuotaUs: msg.cpuQuotaUs }),
    ...(msg.cpusetCpus === '' ? {} : { cpusetCpus: msg.cpusetCpus }),
    ...(msg.cpusetMems === '' ? {} : { cpusetMems: msg.cpusetMems }),
  };
  return Object.keys(out).length === 0 ? undefined : out;
}

/** runSettingsRequest turns the wire form back into request options, leaving out what was not given. */
export function runSettingsRequest(msg: RunSettingsMsg | undefined): Pick<BuildRequest, 'extraHosts' | 'shmSizeBytes' | 'ulimits' | 'cgroupParent' | 'resources'> {
  // Absent from older clients.
  if (msg === undefined) return {};
  const resources = runResources(msg.resources);
  return {
    ...(msg.extraHosts.length === 0 ? {} : { extraHosts: msg.extraHosts }),
    ...(msg.shmSizeBytes === 0 ? {} : { shmSizeBytes: msg.shmSizeBytes }),
    ...(msg.ulimits.length === 0 ? {} : { ulimits: msg.ulimits }),
    ...(msg.cgroupParent === '' ? {} : { cgroupParent: msg.cgroupParent }),
    ...(resources === undefined ? {} : { resources }),
  };
}
