import type { RecordedRequest } from '../base/build-record.js';
import { digestOf } from '../base/digest.js';
import { assertNever } from '../base/errors.js';
import { formatPlatform } from '../base/oci.js';
import { redactCredentials } from '../exporter/index.js';
import type { BuildRequest, ContextSource, OutputDest, OutputSpec } from './request.js';

/**
 * recordedRequest is what the history keeps of a request: target, platforms, build args, outputs, cache flags and the
 * Dockerfile when the request carries its bytes. Secrets and SSH agents are never recorded.
 */
export function recordedRequest(request: BuildRequest): RecordedRequest {
  const platforms = request.platforms ?? (request.platform === undefined ? [] : [request.platform]);
  const dockerfile = 'bytes' in request.dockerfile ? recordedDockerfile(request.dockerfile.name, Buffer.from(request.dockerfile.bytes).toString('utf8')) : recordedDockerfile('Dockerfile', '');
  return {
    ...(request.target === undefined ? {} : { target: request.target }),
    platforms: platforms.map(formatPlatform),
    buildArgs: Object.fromEntries(request.buildArgs ?? []),
    outputs: request.outputs.map(describeOutput),
    noCache: request.noCache === true,
    noCacheFilter: request.noCacheFilter ?? [],
    ...(request.explain === true ? { explain: true } : {}),
    ...dockerfile,
    context: describeContext(request.context),
  };
}

/** recordedDockerfile is the Dockerfile part of a recorded request. */
export function recordedDockerfile(name: string, text: string): Pick<RecordedRequest, 'dockerfileName' | 'dockerfileDigest' | 'dockerfileText'> {
  return { dockerfileName: name, dockerfileDigest: text === '' ? '' : digestOf(text), dockerfileText: text };
}

/** describeOutput writes an output as `--output` takes it. */
export function describeOutput(o: OutputSpec): string {
  switch (o.type) {
    case 'image':
      return ['type=image', ...(o.names.length === 0 ? [] : [`name=${o.names.join(',')}`]), ...(o.push ? ['push=true'] : [])].join(',');
    case 'oci':
    case 'docker':
      return [`type=${o.type}`, `dest=${destText(o.dest)}`, ...(o.names.length === 0 ? [] : [`name=${o.names.join(',')}`])].join(',');
    case 'load':
      return ['type=docker', ...(o.names.length === 0 ? [] : [`name=${o.names.join(',')}`]), 'load=true'].join(',');
    case 'tar':
    case 'local':
      return `type=${o.type},dest=${destText(o.dest)}`;
    default:
      return assertNever(o, 'output');
  }
}

function destText(dest: OutputDest): string {
  return typeof dest === 'string' ? dest : '-';
}

function describeContext(c: ContextSource): string {
  switch (c.kind) {
    case 'folder':
      return c.dir;
    case 'archive':
      return '-';
    case 'url':
      return redactCredentials(c.url);
    case 'receiver':
      return 'client';
    case 'none':
      return '';
    default:
      return assertNever(c, 'context');
  }
}
