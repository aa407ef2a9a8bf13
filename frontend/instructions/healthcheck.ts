import { instructionError, type InstructionContext } from './context.js';
import { parseDuration } from './duration.js';
import { parseFlags } from './flags.js';
import type { HealthcheckInstruction, HealthcheckOptions } from './types.js';

const MINIMUM_DURATION_NS = 1e6;

function parseInterval(ctx: InstructionContext, name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ns = parseDuration(value);
  if (ns === undefined) throw instructionError(ctx, `Cannot parse --${name} "${value}": invalid duration`);
  if (ns === 0) return undefined;
  if (ns < MINIMUM_DURATION_NS) throw instructionError(ctx, `Interval "${name}" cannot be less than 1ms`);
  return ns;
}

function parseRetries(ctx: InstructionContext, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[+-]?\d+$/.test(value)) throw instructionError(ctx, `Cannot parse --retries "${value}": not an integer`);
  const n = Number(value);
  if (n < 0) throw instructionError(ctx, `--retries cannot be negative (${n})`);
  return n === 0 ? undefined : n;
}

/** parseHealthcheck reads `HEALTHCHECK NONE` or `HEALTHCHECK [options] CMD command`. */
export function parseHealthcheck(ctx: InstructionContext): HealthcheckInstruction {
  const [typeWord, ...rest] = ctx.args;
  if (typeWord === undefined) throw instructionError(ctx, 'HEALTHCHECK requires at least one argument');
  const type = typeWord.toUpperCase();
  if (type === 'NONE') {
    parseFlags(ctx.node.flags, {}, ctx.base.location);
    if (rest.length !== 0) throw instructionError(ctx, 'HEALTHCHECK NONE takes no arguments');
    return { ...ctx.base, kind: 'healthcheck', health: { test: ['NONE'] } };
  }
  const flags = parseFlags(
    ctx.node.flags,
    { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
    ctx.base.location,
  );
  if (type !== 'CMD') throw instructionError(ctx, `Unknown type "${type}" in HEALTHCHECK (try CMD)`);
  const json = ctx.node.attributes.json === true;
  const command = json ? rest : rest.length === 0 ? [] : [rest.join(' ')];
  if (command.length === 0) throw instructionError(ctx, 'Missing command after HEALTHCHECK CMD');
  const health: HealthcheckOptions = {
    test: [json ? 'CMD' : 'CMD-SHELL', ...command],
    ...optional('interval', parseInterval(ctx, 'interval', flags.interval)),
    ...optional('timeout', parseInterval(ctx, 'timeout', flags.timeout)),
    ...optional('startPeriod', parseInterval(ctx, 'start-period', flags['start-period'])),
    ...optional('startInterval', parseInterval(ctx, 'start-interval', flags['start-interval'])),
    ...optional('retries', parseRetries(ctx, flags.retries)),
  };
  return { ...ctx.base, kind: 'healthcheck', health };
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  const out: { [P in K]?: number } = {};
  if (value !== undefined) out[key] = value;
  return out;
}
