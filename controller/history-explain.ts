import { isRecord } from '../base/is-record.js';
import type { HistoryRecord, StepRecord } from '../base/build-record.js';
import { canonicalJson } from '../base/canonical-json.js';
import { checksumListing, preimageOf, type MetadataStore } from '../cache/index.js';
import { diffListings, shortDigest as short } from './history-listing-diff.js';

/** StepExplanation says why one step of a build ran instead of coming from the cache. */
export interface StepExplanation {
  readonly step: number;
  readonly name: string;
  /** The earlier record its key was compared with, when there is one. */
  readonly comparedWith?: string;
  /** What changed, in words, most direct cause first. */
  readonly reasons: readonly string[];
}

/** ExplainOptions: the store (for context listings and cache records) and the one step to explain, when asked. */
export interface ExplainOptions {
  readonly meta: MetadataStore;
  readonly step?: number;
}

/** Inputs are followed this deep to name a changed file or base image under steps that were not reported. */
const MAX_DEPTH = 32;

/**
 * explainRecord compares each step of a record that ran with the same step (same Dockerfile lines, target and platform)
 * in the nearest earlier record, by the preimages of their cache keys, and says what changed.
 */
export function explainRecord(record: HistoryRecord, all: readonly HistoryRecord[], options: ExplainOptions): StepExplanation[] {
  const earlier = all.filter((r) => r.createdAt < record.createdAt || (r.createdAt === record.createdAt && r.ref < record.ref));
  const steps = options.step === undefined ? record.steps.filter((s) => ran(s)) : record.steps.filter((s) => s.index === options.step);
  return steps.map((step) => explainStep(record, step, earlier, options.meta));
}

function ran(s: StepRecord): boolean {
  return !s.cached && s.cacheKey !== undefined && (s.status === 'completed' || s.status === 'failed' || s.status === 'cancelled');
}

function explainStep(record: HistoryRecord, step: StepRecord, earlier: readonly HistoryRecord[], meta: MetadataStore): StepExplanation {
  const base = { step: step.index, name: step.name };
  if (step.cached) return { ...base, reasons: ['it did not run: its result came from the cache'] };
  if (step.ignoreCache === true) return { ...base, reasons: [record.request.noCache ? '`--no-cache`' : `\`--no-cache-filter ${record.request.noCacheFilter.join(',')}\``] };
  const match = findEarlier(record, step, earlier, meta);
  if (match === undefined) return { ...base, reasons: ['no earlier build of this step is recorded'] };
  const [prev, prevStep] = match;
  const compared = { ...base, comparedWith: prev.ref };
  if (step.cacheKey === undefined || prevStep.cacheKey === undefined) return { ...compared, reasons: ['its cache key was not recorded'] };
  if (step.cacheKey === prevStep.cacheKey) return { ...compared, reasons: [sameKeyReason(record, step, prev, prevStep, meta)] };
  const ctx: DiffContext = { cur: record, prev, meta, depth: 0 };
  const reasons = diffKeys(step.cacheKey, prevStep.cacheKey, ctx);
  return { ...compared, reasons: reasons.length > 0 ? reasons : [`its cache key changed (${short(prevStep.cacheKey)} → ${short(step.cacheKey)}); what it was computed from was not recorded`] };
}

/** findEarlier finds the nearest earlier record of the same step: same Dockerfile lines, target and platform, else same name. */
function findEarlier(record: HistoryRecord, step: StepRecord, earlier: readonly HistoryRecord[], meta: MetadataStore): [HistoryRecord, StepRecord] | undefined {
  const sameTarget = earlier.filter((r) => r.request.target === record.request.target && r.request.dockerfileName === record.request.dockerfileName);
  // A COPY and the context source it reads share their Dockerfile lines: the kind of key tells them apart.
  const where = (r: HistoryRecord, s: StepRecord): string | undefined =>
    s.location === undefined ? undefined : `${s.location.file}:${s.location.startLine}-${s.location.endLine} ${s.platform ?? ''} ${keyKind(r, s, meta) ?? ''}`;
  const at = where(record, step);
  for (const r of sameTarget) {
    const found = r.steps.find((s) => s.cacheKey !== undefined && (at === undefined ? s.name === step.name : where(r, s) === at));
    if (found !== undefined) return [r, found];
  }
  for (const r of sameTarget) {
    const found = r.steps.find((s) => s.cacheKey !== undefined && s.name === step.name);
    if (found !== undefined) return [r, found];
  }
  return undefined;
}

function keyKind(r: HistoryRecord, s: StepRecord, meta: MetadataStore): string | undefined {
  return s.cacheKey === undefined ? undefined : opPreimage(preimageOf(meta, r, s.cacheKey))?.kind;
}

function sameKeyReason(record: HistoryRecord, step: StepRecord, prev: HistoryRecord, prevStep: StepRecord, meta: MetadataStore): string {
  const key = step.cacheKey ?? '';
  if (keyKind(record, step, meta) === 'source.local') return 'the context is read on every build: its files did not change';
  if (prevStep.status === 'failed') return `it failed in build ${prev.ref}, which therefore left no cache record`;
  if (prevStep.status === 'cancelled' || prev.status === 'interrupted') return `it did not finish in build ${prev.ref}, which therefore left no cache record`;
  const found = step.cacheRecordFound ?? meta.cacheRecords.doesExist(key);
  if (!found) return `cache record pruned (the same cache key was cached by build ${prev.ref})`;
  return `its cache record (from build ${prev.ref}) could not be used: its files are gone`;
}

interface DiffContext {
  readonly cur: HistoryRecord;
  readonly prev: HistoryRecord;
  readonly meta: MetadataStore;
  readonly depth: number;
}

/** diffKeys says what differs between the preimages of two keys of the same step. */
function diffKeys(curKey: string, prevKey: string, ctx: DiffContext): string[] {
  const cur = opPreimage(preimageOf(ctx.meta, ctx.cur, curKey));
  const prev = opPreimage(preimageOf(ctx.meta, ctx.prev, prevKey));
  if (cur === undefined || prev === undefined) return [];
  if (cur.kind !== prev.kind) return [`it is another kind of step (${prev.kind} → ${cur.kind})`];
  const reasons = diffFields(cur, prev, ctx);
  const n = Math.max(cur.inputs.length, prev.inputs.length);
  for (let i = 0; i < n; i++) reasons.push(...diffInput(cur.inputs[i], prev.inputs[i], ctx));
  return reasons;
}

function diffInput(cur: RecordedInput | undefined, prev: RecordedInput | undefined, ctx: DiffContext): string[] {
  if (cur === undefined || prev === undefined) return ['it has another number of inputs'];
  if (cur.key === prev.key) return [];
  if (cur.content !== undefined || prev.content !== undefined) {
    const what = (cur.selector ?? prev.selector ?? []).map((p) => `\`${p}\``).join(', ');
    return [`the files it reads (${what}) of the step before changed (${short(prev.content ?? prev.key)} → ${short(cur.content ?? cur.key)})`];
  }
  const below = opPreimage(preimageOf(ctx.meta, ctx.cur, cur.key));
  const inputStep = ctx.cur.steps.find((s) => s.cacheKey === cur.key);
  // A source's change is said as such (a file, a base image); an op that ran is named, its own reasons under it.
  if (below !== undefined && below.kind.startsWith('source.')) return diffKeys(cur.key, prev.key, ctx);
  if (inputStep !== undefined && !inputStep.cached) return [`the step before it ran (\`${inputStep.name}\`)`];
  if (ctx.depth >= MAX_DEPTH) return [`an input's cache key changed (${short(prev.key)} → ${short(cur.key)})`];
  return diffKeys(cur.key, prev.key, { ...ctx, depth: ctx.depth + 1 });
}

function diffFields(cur: RecordedPreimage, prev: RecordedPreimage, ctx: DiffContext): string[] {
  const out: string[] = [];
  const names = new Set([...Object.keys(cur.fields), ...Object.keys(prev.fields)]);
  for (const name of [...names].sort()) {
    const a = prev.fields[name];
    const b = cur.fields[name];
    if (same(a, b)) continue;
    out.push(...describeField(cur.kind, name, a, b, ctx));
  }
  if (cur.output !== prev.output) out.push(`it stands for another output (${prev.output} → ${cur.output})`);
  if (cur.version !== prev.version) out.push(`tbuild's cache key version changed (${prev.version} → ${cur.version})`);
  return out;
}

function describeField(kind: string, name: string, a: unknown, b: unknown, ctx: DiffContext): string[] {
  if (kind === 'source.image' && name === 'digest') {
    const image = sourceName(ctx.cur, b) ?? sourceName(ctx.prev, a) ?? 'the base image';
    return [`base image \`${image}\` resolved to another digest (${String(a)} → ${String(b)})`];
  }
  if (kind === 'source.local' && name === 'checksum') return describeChecksum(String(a), String(b), ctx);
  if (kind === 'exec' && name === 'meta' && isRecord(a) && isRecord(b)) return describeMeta(a, b, ctx);
  return [`\`${name}\` changed: ${text(a)} → ${text(b)}`];
}

function describeMeta(a: Record<string, unknown>, b: Record<string, unknown>, ctx: DiffContext): string[] {
  const out: string[] = [];
  for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (same(a[name], b[name])) continue;
    if (name === 'env') out.push(...describeEnv(stringList(a[name]), stringList(b[name]), ctx));
    else if (name === 'args') out.push(`the command changed: \`${stringList(a[name]).join(' ')}\` → \`${stringList(b[name]).join(' ')}\``);
    else out.push(`\`${name}\` changed: ${text(a[name])} → ${text(b[name])}`);
  }
  return out;
}

function describeEnv(before: readonly string[], after: readonly string[], ctx: DiffContext): string[] {
  const toMap = (l: readonly string[]): Map<string, string> => new Map(l.map((e) => [e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const a = toMap(before);
  const b = toMap(after);
  const out: string[] = [];
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    if (a.get(name) === b.get(name)) continue;
    const isArg = Object.hasOwn(ctx.cur.request.buildArgs, name) || Object.hasOwn(ctx.prev.request.buildArgs, name);
    const what = isArg ? `build arg \`${name}\`` : `environment variable \`${name}\``;
    const from = a.get(name);
    const to = b.get(name);
    out.push(from === undefined ? `${what} set to ${to ?? ''}` : to === undefined ? `${what} no longer set (was ${from})` : `${what} ${from} → ${to}`);
  }
  return out;
}

function describeChecksum(before: string, after: string, ctx: DiffContext): string[] {
  const a = checksumListing(ctx.meta, before);
  const b = checksumListing(ctx.meta, after);
  if (a === undefined || b === undefined) return [`the context files it reads changed (checksum ${short(before)} → ${short(after)}; the file list was not kept)`];
  const changes = diffListings(a, b);
  return changes.length > 0 ? changes : [`the context files it reads changed (checksum ${short(before)} → ${short(after)})`];
}

/** The image a FROM step names, from its step name (`[1/3] FROM debian:bookworm@sha256:…`). */
function sourceName(record: HistoryRecord, digest: unknown): string | undefined {
  const step = record.steps.find((s) => s.name.includes(' FROM ') || s.name.startsWith('FROM ') || (typeof digest === 'string' && s.name.includes(digest)));
  const m = step?.name.match(/FROM (\S+)/);
  return m?.[1]?.replace(/@sha256:[0-9a-f]+$/, '');
}

/** RecordedPreimage is an op preimage as read back from a record (see solver OpPreimage). */
interface RecordedPreimage {
  readonly kind: string;
  readonly version: number;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly output: number;
  readonly inputs: readonly RecordedInput[];
}

/** RecordedInput is an input of a recorded preimage (see solver PreimageInput). */
interface RecordedInput {
  readonly key: string;
  readonly selector?: readonly string[];
  readonly content?: string;
}

function opPreimage(v: unknown): RecordedPreimage | undefined {
  if (!isRecord(v) || v['type'] !== 'op' || typeof v['kind'] !== 'string' || !isRecord(v['fields']) || !Array.isArray(v['inputs'])) return undefined;
  const inputs: RecordedInput[] = v['inputs'].filter(isRecord).map((i) => ({
    key: String(i['key']),
    ...(Array.isArray(i['selector']) ? { selector: i['selector'].map(String) } : {}),
    ...(typeof i['content'] === 'string' ? { content: i['content'] } : {}),
  }));
  return { version: Number(v['version']), kind: v['kind'], fields: v['fields'], output: Number(v['output']), inputs };
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}

function text(v: unknown): string {
  return v === undefined ? '(none)' : canonicalJson(v);
}

