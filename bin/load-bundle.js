// loadBundle compiles tbuild's bundle (dist/bundle/main.cjs) with V8's code cache. The first run of a command
// compiles the bundle from its source and, once the command is done, keeps what V8 compiled (every function that ran,
// not only the top level) in the user's cache folder; later runs deserialise it instead of parsing and compiling.
// A cache is named after the bundle's SHA-256 (written by scripts/bundle.mjs beside it), Node's version and the kind
// of command, because V8 checks a cache only against its source's length and its own version: a cache never meets
// code it was not made from. The cache is only a speed-up: a folder that cannot be read or written means compiling
// from source, as without it.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

/** How many caches the folder keeps: a few bundles (checkouts, upgrades) times the two kinds. */
const KEPT_CACHES = 8;

/** codeCacheFolder is $XDG_CACHE_HOME/tbuild/code, or ~/.cache/tbuild/code; undefined where there is no home. */
function codeCacheFolder() {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'tbuild', 'code');
  try {
    return join(homedir(), '.cache', 'tbuild', 'code');
  } catch {
    return undefined; // no home directory for this user: run without a cache
  }
}

function readCache(path) {
  try {
    return readFileSync(path);
  } catch {
    return undefined; // absent (the first run) or unreadable: compile from source
  }
}

/** keepCache writes the cache atomically, then drops the oldest caches beyond KEPT_CACHES. */
function keepCache(folder, name, data) {
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const temporary = join(folder, `.${name}.${process.pid}`);
    writeFileSync(temporary, data, { mode: 0o600 });
    renameSync(temporary, join(folder, name));
    const caches = readdirSync(folder).filter((f) => f.endsWith('.v8')).map((f) => ({ f, t: statSync(join(folder, f)).mtimeMs }));
    for (const { f } of caches.sort((a, b) => b.t - a.t).slice(KEPT_CACHES)) rmSync(join(folder, f), { force: true });
  } catch {
    // A read-only or full cache folder (or one that another process tidied at the same time): the next run compiles
    // from source again, which is all this costs.
  }
}

/**
 * loadBundle runs the bundle at `url` as a CommonJS module and returns its exports, with `keepCode()` to call when
 * the command is done: it writes the cache when there was none or V8 rejected it (another Node).
 */
export function loadBundle(url, kind) {
  const file = fileURLToPath(url);
  let source;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    // A checkout updated or unpacked without its build: say what to run rather than show a stack.
    if (err?.code !== 'ENOENT') throw err;
    process.stderr.write(`ERROR: tbuild is not built: ${file} is missing\nHint: run 'npm run build' in ${dirname(dirname(dirname(file)))}\n`);
    process.exit(1);
  }
  const digest = readFileSync(`${file}.sha256`, 'utf8').trim().slice(0, 32);
  // The bundle's time of change too: a bundle edited in place without bundling again still gets a cache of its own.
  const changed = Math.trunc(statSync(file).mtimeMs);
  const folder = codeCacheFolder();
  const name = `${digest}-${changed}-${process.version}-${process.arch}-${kind}.v8`;
  const cachedData = folder === undefined ? undefined : readCache(join(folder, name));
  // The wrapper stays on the source's first line, so that stack traces keep the bundle's line numbers.
  const wrapper = '(function (exports, require, module, __filename, __dirname, __tbuildBundleUrl) {';
  const script = new Script(`${wrapper}${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file), pathToFileURL(file).href);
  const keepCode = () => {
    if (folder !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) keepCache(folder, name, script.createCachedData());
  };
  return { exports: module.exports, keepCode };
}
