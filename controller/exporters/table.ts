import { dockerExporter, ociExporter } from './archive.js';
import { localExporter, tarExporter } from './files.js';
import { imageExporter } from './image.js';
import { loadExporter } from './load.js';
import type { ExporterFactory, ExporterTable, OutputExporter, OutputOf, OutputType } from './types.js';

/** EXPORTERS is the exporter factory of every kind of output; adding a kind is adding its entry here. */
export const EXPORTERS: ExporterTable = {
  image: imageExporter,
  oci: ociExporter,
  docker: dockerExporter,
  load: loadExporter,
  local: localExporter,
  tar: tarExporter,
};

/** exporterFor makes the exporter of one output from its kind's factory in the table. */
export function exporterFor<T extends OutputType>(output: OutputOf<T>, table: ExporterTable = EXPORTERS): OutputExporter {
  const factory: ExporterFactory<T> = table[output.type];
  return factory(output);
}
