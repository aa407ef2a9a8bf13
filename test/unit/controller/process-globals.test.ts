import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/cli.js';

/**
 * The build's own layers take everything of their caller as values (see BuildRequest, BuildEnvironment): they never
 * read or change process globals, so one controller serves concurrent builds of different callers. These are the
 * only uses allowed, each with why.
 */
const ALLOWED: readonly { readonly file?: string; readonly use: RegExp; readonly why: string }[] = [
  { use: /process\.pid\b/, why: 'names temporary files and leases of this process, so a crashed process leaves names others can tell apart' },
  { file: 'cache/process-alive.ts', use: /process\.kill\(pid, 0\)/, why: 'asks whether the process that left a file in the store is still alive (signal 0 sends nothing)' },
  {
    file: 'solver/ops/layer-writer.ts',
    use: /process\.umask\(\)/,
    why: 'the mask the kernel applies to every file this process creates: a copied file made with its final mode needs no chmod unless the mask cuts it (the client\'s umask is the request\'s)',
  },
];

const LAYERS = ['controller', 'solver', 'cache', 'exporter', 'frontend', 'registry'];

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name).slice(REPO_ROOT.length + 1));
}

describe('process globals', () => {
  it('are not used by the controller, solver, cache, exporter, frontend and registry, beyond the documented exceptions', async () => {
    const found: string[] = [];
    for (const file of (await Promise.all(LAYERS.map(sources))).flat()) {
      const lines = (await readFile(join(REPO_ROOT, file), 'utf8')).split('\n');
      for (const [i, line] of lines.entries()) {
        // The user's home folder (os.homedir, os.userInfo) is the process's too: the CLI reads it and passes values.
        for (const m of line.matchAll(/process\.[A-Za-z_]+(\([^)]*\))?|\bhomedir\(\)|\buserInfo\(/g)) {
          const allowed = ALLOWED.some((a) => (a.file === undefined || a.file === file) && a.use.test(m[0]));
          if (!allowed) found.push(`${file}:${i + 1}: ${line.trim()}`);
        }
      }
    }
    expect(found).toEqual([]);
  });
});
