import type { Dispatcher } from 'undici';
import { RegistryError } from '../base/errors.js';

/** isRecord tells whether a parsed JSON value is an object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** readText reads a small response body, refusing more than max bytes. */
export async function readText(res: Dispatcher.ResponseData, max: number): Promise<string> {
  return Buffer.from(await readBytes(res, max)).toString('utf8');
}

/** readBytes reads a small response body (manifests, configs, errors), refusing more than max bytes. */
export async function readBytes(res: Dispatcher.ResponseData, max: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > max) {
      res.body.destroy();
      throw new RegistryError(`Cannot read registry response: larger than ${max} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
