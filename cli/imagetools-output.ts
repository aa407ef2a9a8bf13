import { formatPlatform } from '../base/oci.js';
import type { ImageInspection, InspectedManifest } from '../controller/index.js';
import { alignColumns } from './tab-writer.js';

const PREFIX = '  ';

/**
 * renderInspection writes what `docker buildx imagetools inspect` prints without --raw or --format: the name, media
 * type and digest, and for an index each entry's name@digest, media type and platform (an attestation manifest shows
 * platform unknown/unknown and its annotations, sorted here where buildx prints them in Go's random map order).
 */
export function renderInspection(ins: ImageInspection): string {
  let out = alignColumns(`Name:\t${ins.ref}\nMediaType:\t${ins.mediaType}\nDigest:\t${ins.digest}\n`);
  if (ins.index === undefined) return out;
  out += alignColumns('\t\nManifests:\t\n');
  // buildx flushes its table before each entry's annotations, so the columns realign after them.
  let table = '';
  ins.index.entries.forEach((m, i) => {
    if (i !== 0) table += '\t\n';
    table += `${PREFIX}Name:\t${m.name}\n${PREFIX}MediaType:\t${m.mediaType}\n`;
    const p = m.platform;
    if (p === undefined) return;
    table += `${PREFIX}Platform:\t${formatPlatform(p)}\n`;
    if ((p['os.version'] ?? '') !== '') table += `${PREFIX}OSVersion:\t${p['os.version'] ?? ''}\n`;
    if ((p['os.features'] ?? []).length > 0) table += `${PREFIX}OSFeatures:\t${(p['os.features'] ?? []).join(', ')}\n`;
    if (m.urls.length > 0) table += `${PREFIX}URLs:\t${m.urls.join(', ')}\n`;
    const annotations = sortedAnnotations(m);
    if (annotations.length === 0) return;
    out += alignColumns(`${table}${PREFIX}Annotations:\t\n`);
    table = '';
    out += alignColumns(annotations.map(([k, v]) => `${PREFIX}${PREFIX}${k}:\t${v}\n`).join(''));
  });
  return out + alignColumns(table);
}

function sortedAnnotations(m: InspectedManifest): [string, string][] {
  return Object.entries(m.annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
