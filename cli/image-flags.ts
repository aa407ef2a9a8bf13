import { UsageError } from '../base/errors.js';
import type { ImageExportOptions, OutputSpec } from '../controller/index.js';

/** parseLabels reads `--label KEY=VALUE` flags (a later one wins), as docker buildx does. */
export function parseLabels(values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const kv of values) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`Cannot use --label "${kv}": expected KEY=VALUE`);
    labels[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return labels;
}

type Annotations = NonNullable<ImageExportOptions['annotations']>;

/**
 * parseAnnotations reads `--annotation [TYPE[,TYPE]:]KEY=VALUE` flags: TYPE is manifest (the default) or index, as
 * docker buildx writes them; descriptor annotations are refused as in -o attributes.
 */
export function parseAnnotations(values: readonly string[]): Annotations {
  const manifest: Record<string, string> = {};
  const index: Record<string, string> = {};
  for (const text of values) {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`Cannot use --annotation "${text}": expected [TYPE:]KEY=VALUE`);
    const head = text.slice(0, eq);
    const value = text.slice(eq + 1);
    const colon = head.indexOf(':');
    const key = colon < 0 ? head : head.slice(colon + 1);
    const types = colon < 0 ? ['manifest'] : head.slice(0, colon).split(',');
    if (key === '') throw new UsageError(`Cannot use --annotation "${text}": the key is empty`);
    for (const type of types) {
      if (type === 'manifest') manifest[key] = value;
      else if (type === 'index') index[key] = value;
      else throw new UsageError(`Cannot use --annotation "${text}": type "${type}" is not supported (manifest or index)`);
    }
  }
  return { manifest, index };
}

/** withAnnotations adds `--annotation` values to every image output; an output's own annotation attributes win. */
export function withAnnotations(outputs: readonly OutputSpec[], extra: Annotations): OutputSpec[] {
  if (Object.keys(extra.manifest).length === 0 && Object.keys(extra.index).length === 0) return [...outputs];
  return outputs.map((o) => {
    if (!('image' in o)) return o;
    const own = o.image.annotations;
    const annotations: Annotations = { manifest: { ...extra.manifest, ...own?.manifest }, index: { ...extra.index, ...own?.index } };
    return { ...o, image: { ...o.image, annotations } };
  });
}
