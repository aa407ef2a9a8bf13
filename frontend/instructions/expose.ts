import { instructionError, type InstructionContext } from './context.js';
import { parseFlags } from './flags.js';
import type { ExposeInstruction } from './types.js';

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

/** PortSpec is one EXPOSE word read as container ports; hostPart is set when an IP or host port was given. */
export interface PortSpec {
  /** Keys for ExposedPorts, e.g. `80/tcp`. */
  readonly ports: readonly string[];
  readonly hostPart: boolean;
  /** The protocol as written was not lower case. */
  readonly protoCasing: boolean;
}

function parsePort(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 0 && n <= 65535 ? n : undefined;
}

/** parsePortSpec reads `[ip:][hostPort:]port[-end][/proto]`; undefined when it is not a valid spec. */
export function parsePortSpec(word: string): PortSpec | undefined {
  const slash = word.lastIndexOf('/');
  const rawProto = slash < 0 ? 'tcp' : word.slice(slash + 1);
  const proto = rawProto.toLowerCase();
  if (!PROTOCOLS.has(proto)) return undefined;
  const portPart = slash < 0 ? word : word.slice(0, slash);
  const colon = portPart.lastIndexOf(':');
  const container = colon < 0 ? portPart : portPart.slice(colon + 1);
  const [startText, endText, extra] = container.split('-');
  if (startText === undefined || extra !== undefined) return undefined;
  const start = parsePort(startText);
  const end = endText === undefined ? start : parsePort(endText);
  if (start === undefined || end === undefined || end < start) return undefined;
  const ports: string[] = [];
  for (let p = start; p <= end; p++) ports.push(`${p}/${proto}`);
  return { ports, hostPart: colon >= 0, protoCasing: rawProto !== proto };
}

/** parseExpose reads EXPOSE; its words are expanded and checked at compile time. */
export function parseExpose(ctx: InstructionContext): ExposeInstruction {
  parseFlags(ctx.node.flags, {}, ctx.base.location);
  if (ctx.args.length === 0) throw instructionError(ctx, 'EXPOSE requires at least one argument');
  // BuildKit sorts the words as written (bytewise), so the history lists the ports in that order.
  const ports = [...ctx.args].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return { ...ctx.base, kind: 'expose', ports };
}
