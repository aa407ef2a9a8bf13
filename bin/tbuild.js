#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { loadBundle } from './load-bundle.js';

// undici parses HTTP with WebAssembly, which V8 also optimises on background threads that a process waits for when
// it exits: about 0.3 s after any registry request. The baseline compiler alone downloads blobs as fast (measured).
setFlagsFromString('--liftoff-only');
// Functions are optimised after four times V8's default budget of calls and loops: most of a build's code runs a few
// times in a short process, where optimising it cost more CPU time than it saved (a warm build: about 8% less CPU);
// hot loops still get optimised. Set before the bundle is compiled, so that its code is compiled with it.
setFlagsFromString('--interrupt-budget=1048576');
const argv = process.argv.slice(2);
const bundle = loadBundle(new URL('../dist/bundle/main.cjs', import.meta.url), argv[0] === 'build' ? 'build' : 'other');
process.exitCode = await bundle.exports.main(argv);
bundle.keepCode();
