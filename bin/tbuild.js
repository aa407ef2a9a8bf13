#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { main } from '../dist/bundle/main.js';

// undici parses HTTP with WebAssembly, which V8 also optimises on background threads that a process waits for when
// it exits: about 0.3 s after any registry request. The baseline compiler alone downloads blobs as fast (measured).
setFlagsFromString('--liftoff-only');
process.exitCode = await main(process.argv.slice(2));
