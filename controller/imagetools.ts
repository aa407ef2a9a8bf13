/**
 * The controller's entry for tbuild imagetools. Inspecting and assembling images in a registry (manifest parsing,
 * index assembly, copying between repositories) loads on the first call, not with every build.
 */
import type { ProgressSink } from '../base/progress.js';
import type { CreatedIndex, CreateIndexRequest } from './imagetools-create.js';
import type { ImageInspection, InspectImageRequest } from './imagetools-inspect.js';

/** inspectImage reads an image or image index from a registry, as docker buildx imagetools inspect does. */
export async function inspectImage(request: InspectImageRequest, options: { signal: AbortSignal }): Promise<ImageInspection> {
  return (await import('./imagetools-inspect.js')).inspectImage(request, options);
}

/** createImageIndex makes an image index from sources in a registry, as docker buildx imagetools create does. */
export async function createImageIndex(request: CreateIndexRequest, io: { signal: AbortSignal; progress?: ProgressSink }): Promise<CreatedIndex> {
  return (await import('./imagetools-create.js')).createImageIndex(request, io);
}
