import { ExportError } from '../../base/errors.js';
import type { ArchiveDest } from '../../exporter/index.js';
import { storePlatformIndex, writeDockerArchive, writeOciArchive, writeOciIndexArchive } from '../../exporter/lazy.js';
import { reportStep } from '../progress-step.js';
import type { ImageExportOptions } from '../request.js';
import { exportEpoch, imageNames, platformIndexAnnotations, rootOf, setFileMode, type ExporterFactory, type ExportSummary, type SingleExport } from './types.js';

/** ociExporter writes the image (or the index of several platforms' images) as an OCI layout archive. */
export const ociExporter: ExporterFactory<'oci'> = (output) => ({
  exportOne: (run) => writeArchive(output.type, output, run),

  async exportPlatforms({ first, imagesFor, fetchAll, attestationsOf }): Promise<ExportSummary> {
    const { store, signal, progress } = first.deps;
    const images = await imagesFor(output.image);
    const names = imageNames(output.names);
    const attestations = await attestationsOf(images, names, 'oci', output.image);
    const index = await storePlatformIndex(images, store.content, { ...platformIndexAnnotations(output.image), attestations, signal });
    await reportStep(progress, 'exporting to oci image format', async (step) => {
      await fetchAll(images, step);
      await writeOciIndexArchive(index, store.content, archiveDest(output), { names, ...exportEpoch(output.image, first.subject.sourceDateEpoch), signal });
      if (output.tar !== false) await setFileMode(output.dest, first.deps.fileMode);
    });
    return { manifestDigest: index.descriptor.digest, descriptor: rootOf(index.descriptor), names };
  },
});

/** dockerExporter writes the image as a `docker save` archive; an image index has no such form. */
export const dockerExporter: ExporterFactory<'docker'> = (output) => ({
  exportOne: (run) => writeArchive(output.type, output, run),
  exportPlatforms: () => Promise.reject(new ExportError('docker exporter does not currently support exporting manifest lists')),
});

type ArchiveOutput = Parameters<ExporterFactory<'oci'>>[0] | Parameters<ExporterFactory<'docker'>>[0];

async function writeArchive(type: 'oci' | 'docker', output: ArchiveOutput, { subject, deps, imageFor }: SingleExport): Promise<ExportSummary> {
  const { store, signal } = deps;
  const image = await imageFor(output.image);
  const names = imageNames(output.names);
  const write = type === 'oci' ? writeOciArchive : writeDockerArchive;
  const attested = type === 'oci' ? await subject.attester?.attest(image, names, 'oci', output.image) : undefined;
  await reportStep(deps.progress, `exporting to ${type} image format`, async (step) => {
    await subject.rootfs.fetch(image.manifest.layers, step);
    const options = { names, ...exportEpoch(output.image, subject.sourceDateEpoch), ...indexAnnotations(output.image), signal };
    await write(image, store.content, archiveDest(output), attested === undefined ? options : { ...options, attested });
    if (output.tar !== false) await setFileMode(output.dest, deps.fileMode);
  });
  return { imageId: image.manifest.config.digest, manifestDigest: image.manifestDescriptor.digest, descriptor: rootOf(attested?.index.descriptor ?? image.manifestDescriptor, image), names };
}

/** archiveDest is where an archive output writes: its file or stream, or with `tar=false` its folder. */
function archiveDest(output: ArchiveOutput): ArchiveDest {
  if (output.tar !== false) return output.dest;
  if (typeof output.dest !== 'string') throw new ExportError(`Cannot write the ${output.type} output with tar=false to a stream: it needs a folder`);
  return { folder: output.dest };
}

function indexAnnotations(o: ImageExportOptions): { indexAnnotations?: Readonly<Record<string, string>> } {
  return o.annotations === undefined ? {} : { indexAnnotations: o.annotations.index };
}
