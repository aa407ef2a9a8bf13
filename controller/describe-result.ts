import { hostPlatform } from '../base/oci.js';
import { describeDockerfile, type DescribeKind } from '../frontend/index.js';
import { basename } from 'node:path';
import type { BuildRequest, BuildResult, PrintKind } from './request.js';

const DESCRIBE_KINDS: readonly DescribeKind[] = ['targets', 'outline', 'subrequests.describe'];

/** describeRequest tells which description of the Dockerfile `--call` asks for, and whether as JSON; undefined for none. */
export function describeRequest(print: PrintKind | undefined): { readonly kind: DescribeKind; readonly json: boolean } | undefined {
  const json = print?.endsWith('-json') === true;
  const kind = DESCRIBE_KINDS.find((k) => k === (json ? print?.slice(0, -'-json'.length) : print));
  return kind === undefined ? undefined : { kind, json };
}

/** describeResult answers `--call targets|outline|subrequests.describe` from the Dockerfile text, as buildx prints it. */
export function describeResult(request: BuildRequest, text: string, asked: { readonly kind: DescribeKind; readonly json: boolean }): BuildResult {
  const described = describeDockerfile(text, asked.kind, {
    file: basename(request.dockerfile),
    ...(request.target === undefined ? {} : { target: request.target }),
    buildArgs: request.buildArgs,
    targetPlatform: request.platform ?? hostPlatform(),
    buildPlatform: hostPlatform(),
  });
  // buildx prints the JSON result with a newline after it.
  return { names: [], warnings: [], printed: asked.json ? `${JSON.stringify(described.json, null, 2)}\n` : described.text };
}
