// Builds an image from a Dockerfile held in a string, with no build context, into an OCI layout tar, using tbuild as a
// library. Usage: node examples/sdk/build-oci.mjs OUT.tar [--root DIR] [--config tbuild.toml]
//   --root    state folder (default: ./tbuild-state)
//   --config  settings file, e.g. examples/offline.toml to pull busybox from a local registry mirror
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createController } from 'tbuild';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { root: { type: 'string' }, config: { type: 'string' } } });
const [out] = positionals;
if (out === undefined) {
  process.stderr.write('usage: node examples/sdk/build-oci.mjs OUT.tar [--root DIR] [--config FILE]\n');
  process.exit(2);
}

const dockerfile = `FROM busybox
RUN echo "built by the tbuild SDK" > /hello.txt
CMD ["cat", "/hello.txt"]
`;

// The controller owns the store, the executor and the build queue of its state folder; close it when done.
const controller = await createController({ root: resolve(values.root ?? 'tbuild-state') });
try {
  const result = await controller.build(
    {
      dockerfile: { name: 'Dockerfile', bytes: Buffer.from(dockerfile) },
      context: { kind: 'none' },
      outputs: [{ type: 'oci', dest: resolve(out), names: ['example/sdk:latest'], image: { compression: 'gzip', forceCompression: false } }],
      ...(values.config === undefined ? {} : { registryConfigPath: resolve(values.config) }),
    },
    {
      signal: AbortSignal.timeout(10 * 60_000),
      // Progress arrives as events; print each step as it completes.
      progress: {
        emit: (event) => {
          if (event.type === 'vertex.completed') process.stderr.write(`${event.error === undefined ? 'done' : 'failed'}: ${event.name}\n`);
        },
      },
    },
  );
  process.stdout.write(`${JSON.stringify({ imageId: result.imageId, manifestDigest: result.manifestDigest, out: resolve(out) })}\n`);
} finally {
  await controller.close();
}
