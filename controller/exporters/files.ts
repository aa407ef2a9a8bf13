import { join } from 'node:path';
import { writeLocalDir, writeRootfsTar, writeRootfsTars } from '../../exporter/index.js';
import { attestedLayers, type AttestedLayers } from '../attestations.js';
import { reportStep } from '../progress-step.js';
import { exportEpoch, platformFolder, setFileMode, type ExporterFactory, type ExportSummary } from './types.js';

// As BuildKit's local and tar exporters, every file is given the epoch as its time, and asked-for attestations
// go in as files at the root (in each platform's folder, with several platforms).

/** localExporter copies the result's files into a folder (one folder per platform). */
export const localExporter: ExporterFactory<'local'> = (output) => ({
  async exportOne({ subject, deps }): Promise<ExportSummary> {
    const epoch = exportEpoch(output, subject.sourceDateEpoch);
    await reportStep(deps.progress, `copying files to ${output.dest}`, async (step) => {
      await using fs = await attestedLayers(subject.attester, await subject.rootfs.snapshots(step), epoch);
      await writeLocalDir(fs.layers, output.dest, { ...epoch, signal: deps.signal });
    });
    return { names: [] };
  },

  async exportPlatforms({ subjects, first }): Promise<ExportSummary> {
    await reportStep(first.deps.progress, `copying files to ${output.dest}`, async (step) => {
      for (const s of subjects) {
        const epoch = exportEpoch(output, s.subject.sourceDateEpoch);
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
      await writeRootfsTar(fs.layers, output.dest, { ...epoch, signal: deps.signal });
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
          const fs = await attestedLayers(s.subject.attester, await s.subject.rootfs.snapshots(step), exportEpoch(output, s.subject.sourceDateEpoch));
          held.push(fs);
          platforms.push({ folder: platformFolder(s.platform), layers: fs.layers });
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
