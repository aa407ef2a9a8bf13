import type { BuildRequest } from '../controller/index.js';
import { Fields } from './wire-fields.js';

/** RunSettingsMsg carries `--add-host`, `--shm-size` and `--ulimit` (0 / empty lists when not given). */
export interface RunSettingsMsg {
  readonly extraHosts: readonly { readonly host: string; readonly ip: string }[];
  readonly shmSizeBytes: number;
  readonly ulimits: readonly { readonly name: string; readonly soft: number; readonly hard: number }[];
}

/** runSettingsMsg puts a request's RUN settings on the wire. */
export function runSettingsMsg(request: BuildRequest): RunSettingsMsg {
  return { extraHosts: request.extraHosts ?? [], shmSizeBytes: request.shmSizeBytes ?? 0, ulimits: request.ulimits ?? [] };
}

/** runSettingsFromWire reads the RunSettings message of a BuildStart (absent from older clients). */
export function runSettingsFromWire(f: Fields | undefined): RunSettingsMsg {
  if (f === undefined) return { extraHosts: [], shmSizeBytes: 0, ulimits: [] };
  return {
    extraHosts: f.list('extraHosts').map((v) => {
      const h = new Fields(v, 'HostEntry');
      return { host: h.str('host'), ip: h.str('ip') };
    }),
    shmSizeBytes: f.num('shmSizeBytes'),
    ulimits: f.list('ulimits').map((v) => {
      const u = new Fields(v, 'Ulimit');
      return { name: u.str('name'), soft: u.num('soft'), hard: u.num('hard') };
    }),
  };
}

/** runSettingsRequest turns the wire form back into request options, leaving out what was not given. */
export function runSettingsRequest(msg: RunSettingsMsg): Pick<BuildRequest, 'extraHosts' | 'shmSizeBytes' | 'ulimits'> {
  return {
    ...(msg.extraHosts.length === 0 ? {} : { extraHosts: msg.extraHosts }),
    ...(msg.shmSizeBytes === 0 ? {} : { shmSizeBytes: msg.shmSizeBytes }),
    ...(msg.ulimits.length === 0 ? {} : { ulimits: msg.ulimits }),
  };
}
