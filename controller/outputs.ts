import { buildImage, type BuiltImage } from '../exporter/index.js';
import { createDigestOnlyStore } from '../cache/index.js';
import { exporterFor } from './exporters/table.js';
import { exportEpoch, type ExportDeps, type ExportSubject, type ExportSummary, type ImageBuilder } from './exporters/types.js';
import type { ImageExportOptions, OutputSpec } from './request.js';
import { reportStep } from './progress-step.js';

/** createImageBuilder makes a subject's images, sharing one creation time and the images of equal options. */
export function createImageBuilder(subject: ExportSubject, deps: ExportDeps): ImageBuilder {
  const { store, signal } = deps;
  const { rootfs } = subject;
  const built = new Map<string, Promise<BuiltImage>>();
  // One creation time for every image of this build (SOURCE_DATE_EPOCH replaces it when set).
  const created = new Date().toISOString();
  return (o: ImageExportOptions, digestOnly = false): Promise<BuiltImage> => {
    const epoch = exportEpoch(o, subject.sourceDateEpoch);
    const rewrite = o.rewriteTimestamp === true && epoch.sourceDateEpoch !== undefined;
    const key = JSON.stringify([o.compression, o.compressionLevel ?? '', o.forceCompression, o.annotations?.manifest ?? {}, o.ociMediaTypes !== false, digestOnly, epoch.sourceDateEpoch ?? '', rewrite]);
    let p = built.get(key);
    if (p === undefined) {
      p = reportStep(deps.progress, 'exporting layers', async (step) =>
        buildImage(
          { layers: await rootfs.imageLayers({ ...o, rewriteTimestamp: rewrite }, step), config: subject.image, ...(o.annotations === undefined ? {} : { annotations: { ...o.annotations.manifest } }) },
          {
            compression: o.compression,
            forceCompression: o.forceCompression,
            ...(o.ociMediaTypes === false ? { mediaTypes: 'docker' as const } : {}),
            created,
            ...(o.compressionLevel === undefined ? {} : { level: o.compressionLevel }),
            ...epoch,
            ...(rewrite ? { rewriteTimestamp: true } : {}),
            ...(subject.base === undefined ? {} : { base: subject.base }),
            store: store.content,
            ...(digestOnly ? { layerStore: createDigestOnlyStore() } : {}),
            cache: store.layerBlobs,
            signal,
          },
        ),
      );
      built.set(key, p);
    }
    return p;
  };
}

/** exportOutputs writes a solved build to every requested output, each by its kind's exporter. */
export async function exportOutputs(outputs: readonly OutputSpec[], subject: ExportSubject, deps: ExportDeps): Promise<ExportSummary> {
  const imageFor = createImageBuilder(subject, deps);
  let summary: ExportSummary = { names: [] };
  for (const output of outputs) summary = mergeSummary(summary, await exporterFor(output).exportOne({ subject, deps, imageFor }));
  return summary;
}

/** mergeSummary adds one output's summary to the build's: its image and digests replace earlier ones, its names add up. */
export function mergeSummary(into: ExportSummary, next: ExportSummary): ExportSummary {
  return { ...into, ...next, names: [...into.names, ...next.names] };
}
