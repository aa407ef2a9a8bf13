import { join } from 'node:path';
import { formatPlatform, type ImageConfig, type Platform } from '../../base/oci.js';
import { normalizePlatform } from '../../base/platform.js';
import { SharedPaths, writeLocalDir, writeRootfsTar, writeRootfsTars } from '../../exporter/lazy.js';
import { attestedLayers, type AttestedLayers } from '../attestations.js';
import { reportStep } from '../progress-step.js';
import { exportEpoch, platformFolder, setFileMode, type ExporterFactory, type ExportSummary } from './types.js';

// As BuildKit's local and tar exporters, every file is given the epoch as its time, and asked-for attestations
// go in as files at the root (in each platform's folder, with several platforms). platform-split=true puts even one
// platform's files in its folder; platform-split=false puts every platform's files at the root, with attestation
// files named after their platform (provenance.linux_amd64.json), and fails where one platform's file would replace
// another's.

/** configPlatform is the platform an image config describes, the folder of a single platform's files. */
function configPlatform(image: ImageConfig): Platform {
  return { os: image.os, architecture: image.architecture, ...(image.variant === undefined ? {} : { variant: image.variant }) };
}

/** platformName is a platform as BuildKit names it in messages: linux/arm/v7. */
function platformName(p: Platform): string {
  return formatPlatform(normalizePlatform(p));
}

/** localExporter copies the result's files into a folder (one folder per platform). */
export const localExporter: ExporterFactory<'local'> = (output) => ({
  async exportOne({ subject, deps }): Promise<ExportSummary> {
    const epoch = exportEpoch(output, subject.sourceDateEpoch);
    await reportStep(deps.progress, `copying files to ${output.dest}`, async (step) => {
      await using fs = await attestedLayers(subject.attester, await subject.rootfs.snapshots(step), epoch);
      const dest = output.platformSplit === true ? join(output.dest, platformFolder(configPlatform(subject.image))) : output.dest;
      await writeLocalDir(fs.layers, dest, { ...epoch, signal: deps.signal });
    });
    return { names: [] };
  },

  async exportPlatforms({ subjects, first }): Promise<ExportSummary> {
    await reportStep(first.deps.progress, `copying files to ${output.dest}`, async (step) => {
      const paths = new SharedPaths();
      for (const s of subjects) {
        const epoch = exportEpoch(output, s.subject.sourceDateEpoch);
        if (output.platformSplit === false) {
          await using fs = await attestedLayers(s.subject.attester, await s.subject.rootfs.snapshots(step), { ...epoch, platformSuffix: platformFolder(s.platform) });
          await writeLocalDir(fs.layers, output.dest, { ...epoch, signal: first.deps.signal, shared: { paths, platform: platformName(s.platform) } });
          continue;
        }
        await using fs = await attestedLayers(s.subject.attester, await s.subject.rootfs.snapshots(step), epoch);
        await writeLocalDir(fs.layers, join(output.dest, platformFolder(s.platform)), { ...epoch, signal: first.deps.signal });
      }
    });
    return { names: [] };
  },
});

/** tarExporter writes the result's files as one tar archive (one folder per platform in it). */
export const tarExporter: ExporterFactory<'tar'> = (output) => ({
  async exportOne({ subject, deps }): Promise<ExportSummary> {
    const epoch = exportEpoch(output, subject.sourceDateEpoch);
    await reportStep(deps.progress, 'sending tarball', async (step) => {
      await using fs = await attestedLayers(subject.attester, await subject.rootfs.snapshots(step), epoch);
      const platform = configPlatform(subject.image);
      if (output.platformSplit === true) await writeRootfsTars([{ platform: platformName(platform), folder: platformFolder(platform), layers: fs.layers }], output.dest, { ...epoch, signal: deps.signal });
      else await writeRootfsTar(fs.layers, output.dest, { ...epoch, signal: deps.signal });
      await setFileMode(output.dest, deps.fileMode);
    });
    return { names: [] };
  },

  async exportPlatforms({ subjects, first }): Promise<ExportSummary> {
    await reportStep(first.deps.progress, 'sending tarball', async (step) => {
      const held: AttestedLayers[] = [];
      try {
        const platforms = [];
        for (const s of subjects) {
          const split = output.platformSplit !== false;
          const epoch = exportEpoch(output, s.subject.sourceDateEpoch);
          const fs = await attestedLayers(s.subject.attester, await s.subject.rootfs.snapshots(step), split ? epoch : { ...epoch, platformSuffix: platformFolder(s.platform) });
          held.push(fs);
          platforms.push({ platform: platformName(s.platform), folder: split ? platformFolder(s.platform) : '', layers: fs.layers });
        }
        await writeRootfsTars(platforms, output.dest, { ...exportEpoch(output, first.subject.sourceDateEpoch), signal: first.deps.signal });
        await setFileMode(output.dest, first.deps.fileMode);
      } finally {
        for (const fs of held) await fs[Symbol.asyncDispose]();
      }
    });
    return { names: [] };
  },
});
