import type { BuildRequest } from '../controller/index.js';
import { message, type MessageOf } from './wire-schema.js';

/** RUN_SETTINGS carries `--add-host`, `--shm-size` and `--ulimit` (0 / empty lists when not given). */
export const RUN_SETTINGS = message('RunSettings', {
  extraHosts: { no: 1, type: message('HostEntry', { host: { no: 1, type: 'string' }, ip: { no: 2, type: 'string' } }), repeated: true },
  shmSizeBytes: { no: 2, type: 'uint64' },
  ulimits: { no: 3, type: message('Ulimit', { name: { no: 1, type: 'string' }, soft: { no: 2, type: 'uint64' }, hard: { no: 3, type: 'uint64' } }), repeated: true },
});

/** RunSettingsMsg is the wire form of the RUN settings. */
export type RunSettingsMsg = MessageOf<typeof RUN_SETTINGS>;

/** runSettingsMsg puts a request's RUN settings on the wire. */
export function runSettingsMsg(request: BuildRequest): RunSettingsMsg {
  return { extraHosts: request.extraHosts ?? [], shmSizeBytes: request.shmSizeBytes ?? 0, ulimits: request.ulimits ?? [] };
}

/** runSettingsRequest turns the wire form back into request options, leaving out what was not given. */
export function runSettingsRequest(msg: RunSettingsMsg | undefined): Pick<BuildRequest, 'extraHosts' | 'shmSizeBytes' | 'ulimits'> {
  // Absent from older clients.
  if (msg === undefined) return {};
  return {
    ...(msg.extraHosts.length === 0 ? {} : { extraHosts: msg.extraHosts }),
    ...(msg.shmSizeBytes === 0 ? {} : { shmSizeBytes: msg.shmSizeBytes }),
    ...(msg.ulimits.length === 0 ? {} : { ulimits: msg.ulimits }),
  };
}
