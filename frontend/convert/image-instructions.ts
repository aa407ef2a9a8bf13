import { DockerfileError } from '../../base/errors.js';
import type { HealthConfig } from '../../base/oci.js';
import type {
  CmdInstruction,
  EntrypointInstruction,
  EnvInstruction,
  ExposeInstruction,
  HealthcheckInstruction,
  LabelInstruction,
  MaintainerInstruction,
  ShellInstruction,
  StopsignalInstruction,
  UserInstruction,
  VolumeInstruction,
} from '../instructions/index.js';
import { parsePortSpec } from '../instructions/index.js';
import type { CompileContext } from './context.js';
import { expandWord, expandWords } from './expand.js';
import { formatGoDuration, formatList, formatQuotedList } from './go-format.js';
import { commitHistory, setEnvEntry } from './image-state.js';
import { withShell } from './run.js';
import { setScopeVar, type StageState } from './stage-state.js';

function legacyCheck(ctx: CompileContext, i: EnvInstruction | LabelInstruction): void {
  if (!i.pairs.some((p) => p.noDelim)) return;
  const n = i.kind.toUpperCase();
  ctx.warnings.add('LegacyKeyValueFormat', `"${n} key=value" should be used instead of legacy "${n} key value" format`, i.location);
}

/** dispatchEnv sets variables in the image and the stage scope. */
export function dispatchEnv(ctx: CompileContext, state: StageState, i: EnvInstruction): void {
  legacyCheck(ctx, i);
  // Every pair is expanded before any is set: `ENV a=bye b=$a` gives b the value a had before this ENV,
  // as the Dockerfile reference and BuildKit (which expands the whole instruction first) do.
  const pairs = i.pairs.map((p) => ({ key: expandWord(ctx, state, p.key, i.location), value: expandWord(ctx, state, p.value, i.location) }));
  const parts: string[] = ['ENV'];
  for (const { key, value } of pairs) {
    setScopeVar(state.env, key, value);
    state.image.config.Env = setEnvEntry(state.image.config.Env, key, value);
    parts.push(`${key}=${value}`);
  }
  commitHistory(state.image, parts.join(' '), { layer: false });
}

/** dispatchLabel sets image labels. */
export function dispatchLabel(ctx: CompileContext, state: StageState, i: LabelInstruction): void {
  legacyCheck(ctx, i);
  const labels = { ...(state.image.config.Labels ?? {}) };
  const parts: string[] = ['LABEL'];
  for (const p of i.pairs) {
    const key = expandWord(ctx, state, p.key, i.location);
    const value = expandWord(ctx, state, p.value, i.location);
    labels[key] = value;
    parts.push(`${key}=${value}`);
  }
  state.image.config.Labels = labels;
  commitHistory(state.image, parts.join(' '), { layer: false });
}

/** dispatchMaintainer sets the image author. */
export function dispatchMaintainer(ctx: CompileContext, state: StageState, i: MaintainerInstruction): void {
  state.image.author = i.maintainer;
  commitHistory(state.image, `MAINTAINER ${i.maintainer}`, { layer: false });
}

/** dispatchExpose adds exposed ports. */
export function dispatchExpose(ctx: CompileContext, state: StageState, i: ExposeInstruction): void {
  const ports = { ...(state.image.config.ExposedPorts ?? {}) };
  const added: string[] = [];
  for (const word of i.ports.flatMap((p) => expandWords(ctx, state, p, i.location))) {
    const spec = parsePortSpec(word);
    if (spec === undefined) throw new DockerfileError(`Cannot parse port "${word}" in EXPOSE: expected port[-end][/tcp|udp|sctp]`, { location: i.location });
    if (spec.hostPart) ctx.warnings.add('ExposeInvalidFormat', `EXPOSE instruction should not define an IP address or host-port mapping, found '${word}'`, i.location);
    if (spec.protoCasing) ctx.warnings.add('ExposeProtoCasing', `Defined protocol '${word}' in EXPOSE instruction should be lowercase`, i.location);
    for (const p of spec.ports) {
      ports[p] = {};
      added.push(p);
    }
  }
  state.image.config.ExposedPorts = ports;
  // Go's %v of the port list, as BuildKit records it.
  commitHistory(state.image, `EXPOSE [${added.join(' ')}]`, { layer: false });
}

/** dispatchVolume adds volumes. */
export function dispatchVolume(ctx: CompileContext, state: StageState, i: VolumeInstruction): void {
  const volumes = { ...(state.image.config.Volumes ?? {}) };
  const list = i.volumes.map((v) => expandWord(ctx, state, v, i.location));
  for (const v of list) {
    if (v === '') throw new DockerfileError('VOLUME specified can not be an empty string', { location: i.location });
    volumes[v] = {};
  }
  state.image.config.Volumes = volumes;
  commitHistory(state.image, `VOLUME ${formatList(list)}`, { layer: false });
}

/** dispatchUser sets the user of later RUNs and of the image. */
export function dispatchUser(ctx: CompileContext, state: StageState, i: UserInstruction): void {
  const user = expandWord(ctx, state, i.user, i.location);
  state.user = user;
  state.image.config.User = user;
  commitHistory(state.image, `USER ${user}`, { layer: false });
}

/** dispatchStopsignal sets the stop signal. */
export function dispatchStopsignal(ctx: CompileContext, state: StageState, i: StopsignalInstruction): void {
  const signal = expandWord(ctx, state, i.signal, i.location);
  if (!/^(SIG)?[A-Z0-9+-]+$/i.test(signal)) throw new DockerfileError(`Invalid signal: ${signal}`, { location: i.location });
  state.image.config.StopSignal = signal;
  commitHistory(state.image, `STOPSIGNAL ${signal}`, { layer: false });
}

/** dispatchShell sets the shell of later shell-form commands. */
export function dispatchShell(state: StageState, i: ShellInstruction): void {
  state.image.config.Shell = [...i.shell];
  commitHistory(state.image, `SHELL ${formatList(i.shell)}`, { layer: false });
}

function commandArgs(ctx: CompileContext, state: StageState, i: CmdInstruction | EntrypointInstruction): string[] {
  if (!i.prependShell) return [...i.args];
  if (state.image.config.Shell === undefined || state.image.config.Shell.length === 0) {
    ctx.warnings.add('JSONArgsRecommended', `JSON arguments recommended for ${i.kind.toUpperCase()} to prevent unintended behavior related to OS signals`, i.location);
  }
  return withShell(state, i.args);
}

/** dispatchCmd sets the default command. */
export function dispatchCmd(ctx: CompileContext, state: StageState, i: CmdInstruction): void {
  const args = commandArgs(ctx, state, i);
  state.image.config.Cmd = args;
  state.image.config.ArgsEscaped = true;
  state.cmdSet = true;
  commitHistory(state.image, `CMD ${formatQuotedList(args)}`, { layer: false });
}

/** dispatchEntrypoint sets the entrypoint, clearing an inherited CMD. */
export function dispatchEntrypoint(ctx: CompileContext, state: StageState, i: EntrypointInstruction): void {
  const args = commandArgs(ctx, state, i);
  state.image.config.Entrypoint = args;
  if (!state.cmdSet) state.image.config.Cmd = null;
  commitHistory(state.image, `ENTRYPOINT ${formatQuotedList(args)}`, { layer: false });
}

/** dispatchHealthcheck sets or disables the health check. */
export function dispatchHealthcheck(state: StageState, i: HealthcheckInstruction): void {
  const h = i.health;
  const health: HealthConfig = {
    Test: [...h.test],
    ...(h.interval === undefined ? {} : { Interval: h.interval }),
    ...(h.timeout === undefined ? {} : { Timeout: h.timeout }),
    ...(h.startPeriod === undefined ? {} : { StartPeriod: h.startPeriod }),
    ...(h.startInterval === undefined ? {} : { StartInterval: h.startInterval }),
    ...(h.retries === undefined ? {} : { Retries: h.retries }),
  };
  state.image.config.Healthcheck = health;
  const d = (ns: number | undefined): string => formatGoDuration(ns ?? 0);
  const text = `{Test:${formatList(h.test)} Interval:${d(h.interval)} Timeout:${d(h.timeout)} StartPeriod:${d(h.startPeriod)} StartInterval:${d(h.startInterval)} Retries:${h.retries ?? 0}}`;
  commitHistory(state.image, `HEALTHCHECK ${text}`, { layer: false });
}
