import { text } from 'node:stream/consumers';
import { parseDigest } from '../base/digest.js';
import { errnoCode } from '../base/errors.js';
import type { ImageManifest } from '../base/oci.js';
import type { ContentProvider } from './content-store.js';

/**
 * readStoredManifest reads an image manifest of the content store for what it lists: undefined when the blob is gone
 * (collected since it was listed) or damaged (not JSON, no layer list), which the store check reports by its digest.
 */
export async function readStoredManifest(content: ContentProvider, digest: string): Promise<ImageManifest | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await text(content.readBlob(parseDigest(digest))));
  } catch (err) {
    if (err instanceof SyntaxError || errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  if (typeof value !== 'object' || value === null || !('layers' in value) || !Array.isArray(value.layers)) return undefined;
  return value as ImageManifest;
}
