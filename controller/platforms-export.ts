import { ExportError } from '../base/errors.js';
import type { AttestationManifest, BuiltImage } from '../exporter/index.js';
import type { AttestedOutput } from './attestations.js';
import { exporterFor } from './exporters/table.js';
import type { ExportSummary, PlatformSubject } from './exporters/types.js';
import { createImageBuilder, mergeSummary } from './outputs.js';
import type { ImageExportOptions, OutputSpec } from './request.js';

/**
 * exportPlatforms writes several platforms' results to every output, each by its kind's exporter: one OCI image
 * index listing each platform's image (pushed or in an OCI archive), or one folder per platform (local and tar).
 */
export async function exportPlatforms(outputs: readonly OutputSpec[], subjects: readonly PlatformSubject[]): Promise<ExportSummary> {
  const [first] = subjects;
  if (first === undefined) throw new ExportError('Cannot export a build of no platform');
  const builders = subjects.map((s) => createImageBuilder(s.subject, s.deps));
  const imagesFor = (o: ImageExportOptions, digestOnly = false): Promise<BuiltImage[]> => Promise.all(builders.map((b) => b(o, digestOnly)));
  const fetchAll = async (images: readonly BuiltImage[], step: string): Promise<void> => {
    for (const [i, image] of images.entries()) await subjects[i]?.subject.rootfs.fetch(image.manifest.layers, step);
  };
  const attestationsOf = async (images: readonly BuiltImage[], names: readonly string[], output: Exclude<AttestedOutput, 'files'>, o: ImageExportOptions): Promise<(AttestationManifest | undefined)[]> => {
    const out: (AttestationManifest | undefined)[] = [];
    for (const [i, image] of images.entries()) out.push(await subjects[i]?.subject.attester?.manifest(image, names, output, o));
    return out;
  };
  let summary: ExportSummary = { names: [] };
  for (const output of outputs) summary = mergeSummary(summary, await exporterFor(output).exportPlatforms({ subjects, first, imagesFor, fetchAll, attestationsOf }));
  return summary;
}
