import { imageExporter } from './image.js';
import type { ExporterFactory, ExporterTable, OutputExporter, OutputOf, OutputType } from './types.js';

/**
 * onFirstUse is the factory of a kind of output whose exporter (and the exporter/ code it writes with) loads when an
 * output of that kind is written: a build that only keeps its image in the store never loads the archive writers.
 */
function onFirstUse<T extends OutputType>(load: () => Promise<ExporterFactory<T>>): ExporterFactory<T> {
  return (output) => ({
    exportOne: async (run) => (await load())(output).exportOne(run),
    exportPlatforms: async (run) => (await load())(output).exportPlatforms(run),
  });
}

/** EXPORTERS is the exporter factory of every kind of output; adding a kind is adding its entry here. */
export const EXPORTERS: ExporterTable = {
  image: imageExporter,
  oci: onFirstUse(async () => (await import('./archive.js')).ociExporter),
  docker: onFirstUse(async () => (await import('./archive.js')).dockerExporter),
  load: onFirstUse(async () => (await import('./load.js')).loadExporter),
  local: onFirstUse(async () => (await import('./files.js')).localExporter),
  tar: onFirstUse(async () => (await import('./files.js')).tarExporter),
};

/** exporterFor makes the exporter of one output from its kind's factory in the table. */
export function exporterFor<T extends OutputType>(output: OutputOf<T>, table: ExporterTable = EXPORTERS): OutputExporter {
  const factory: ExporterFactory<T> = table[output.type];
  return factory(output);
}
