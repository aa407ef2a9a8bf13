import { ExportError } from '../../base/errors.js';
import { dockerEndpoint, loadIntoDocker } from '../../exporter/lazy.js';
import { reportStep } from '../progress-step.js';
import { imageNames, rootOf, type ExporterFactory, type ExportSummary } from './types.js';

/** loadExporter loads the image into the caller's Docker engine (`--load`); an image index has no such form. */
export const loadExporter: ExporterFactory<'load'> = (output) => ({
  async exportOne({ subject, deps, imageFor }): Promise<ExportSummary> {
    const image = await imageFor(output.image);
    const names = imageNames(output.names);
    await reportStep(deps.progress, 'loading the image into Docker', async (step) => {
      await subject.rootfs.fetch(image.manifest.layers, step);
      await loadIntoDocker(image, deps.store.content, { names, endpoint: dockerEndpoint(deps.dockerHost), signal: deps.signal });
    });
    return { imageId: image.manifest.config.digest, manifestDigest: image.manifestDescriptor.digest, descriptor: rootOf(image.manifestDescriptor, image), names };
  },
  exportPlatforms: () => Promise.reject(new ExportError('docker exporter does not currently support exporting manifest lists')),
});
