/**
 * The values `imagetools inspect --format` templates read, shaped as buildx's Go types are: each field's Go name,
 * its JSON key and its kind, so `{{.Manifest.Digest}}` and `{{json .Image}}` print what buildx prints.
 */
import type { GoJsonValue } from '../base/go-json.js';
import { goDescriptor, goImage, goStringMap } from '../base/go-oci.js';
import type { ImageInspection } from '../controller/index.js';

/** Shape is a Go type as a template sees it. */
export type Shape =
  | { readonly kind: 'string' | 'int' | 'bool' | 'time' | 'bytes' }
  | { readonly kind: 'struct'; readonly type: string; readonly fields: Readonly<Record<string, readonly [string, Shape]>>; readonly pointer?: boolean }
  | { readonly kind: 'list'; readonly item: Shape }
  | { readonly kind: 'map'; readonly value: Shape };

/** TemplateValue is a value in a template: its Go type and its JSON form (undefined: Go's zero value). */
export interface TemplateValue {
  readonly shape: Shape;
  readonly json: GoJsonValue | undefined;
}

const STRING: Shape = { kind: 'string' };
const INT: Shape = { kind: 'int' };
const BOOL: Shape = { kind: 'bool' };
const TIME: Shape = { kind: 'time' };
const STRINGS: Shape = { kind: 'list', item: STRING };
const STRING_MAP: Shape = { kind: 'map', value: STRING };
const SET: Shape = { kind: 'map', value: { kind: 'struct', type: 'struct {}', fields: {} } };

const PLATFORM_FIELDS = {
  Architecture: ['architecture', STRING],
  OS: ['os', STRING],
  OSVersion: ['os.version', STRING],
  OSFeatures: ['os.features', STRINGS],
  Variant: ['variant', STRING],
} as const;

const DESCRIPTOR: Shape = {
  kind: 'struct',
  type: 'v1.Descriptor',
  fields: {
    MediaType: ['mediaType', STRING],
    Digest: ['digest', STRING],
    Size: ['size', INT],
    URLs: ['urls', STRINGS],
    Annotations: ['annotations', STRING_MAP],
    Data: ['data', { kind: 'bytes' }],
    Platform: ['platform', { kind: 'struct', type: '*v1.Platform', fields: PLATFORM_FIELDS, pointer: true }],
    ArtifactType: ['artifactType', STRING],
  },
};

const INDEX: Shape = {
  kind: 'struct',
  type: 'index',
  fields: {
    SchemaVersion: ['schemaVersion', INT],
    MediaType: ['mediaType', STRING],
    Digest: ['digest', STRING],
    Size: ['size', INT],
    Manifests: ['manifests', { kind: 'list', item: DESCRIPTOR }],
    Annotations: ['annotations', STRING_MAP],
  },
};

const HISTORY: Shape = {
  kind: 'struct',
  type: 'v1.History',
  fields: { Created: ['created', TIME], CreatedBy: ['created_by', STRING], Author: ['author', STRING], Comment: ['comment', STRING], EmptyLayer: ['empty_layer', BOOL] },
};

const IMAGE_CONFIG: Shape = {
  kind: 'struct',
  type: 'v1.ImageConfig',
  fields: {
    User: ['User', STRING],
    ExposedPorts: ['ExposedPorts', SET],
    Env: ['Env', STRINGS],
    Entrypoint: ['Entrypoint', STRINGS],
    Cmd: ['Cmd', STRINGS],
    Volumes: ['Volumes', SET],
    WorkingDir: ['WorkingDir', STRING],
    Labels: ['Labels', STRING_MAP],
    StopSignal: ['StopSignal', STRING],
    ArgsEscaped: ['ArgsEscaped', BOOL],
  },
};

const IMAGE: Shape = {
  kind: 'struct',
  type: '*v1.Image',
  pointer: true,
  fields: {
    Created: ['created', TIME],
    Author: ['author', STRING],
    ...PLATFORM_FIELDS,
    Config: ['config', IMAGE_CONFIG],
    RootFS: ['rootfs', { kind: 'struct', type: 'v1.RootFS', fields: { Type: ['type', STRING], DiffIDs: ['diff_ids', STRINGS] } }],
    History: ['history', { kind: 'list', item: HISTORY }],
  },
};

/**
 * inspectionValue is the input of buildx's templates: `.Name` (as given), `.Manifest` (the descriptor of an image, or
 * the index with its digest and size) and `.Image` (the config of the one platform, else a map by platform).
 */
export function inspectionValue(ins: ImageInspection): TemplateValue {
  const manifest: TemplateValue =
    ins.index === undefined
      ? { shape: DESCRIPTOR, json: goDescriptor({ mediaType: ins.mediaType, digest: ins.digest, size: ins.size }) }
      : {
          shape: INDEX,
          json: {
            schemaVersion: 2,
            mediaType: ins.index.mediaType === '' ? undefined : ins.index.mediaType,
            digest: ins.digest,
            size: ins.size,
            manifests: ins.index.manifests.map(goDescriptor),
            annotations: goStringMap(ins.index.annotations),
          },
        };
  const images = ins.images ?? new Map<string, unknown>();
  const multi = images.size > 1;
  const first = [...images.values()][0];
  const image: TemplateValue = multi
    ? { shape: { kind: 'map', value: IMAGE }, json: new Map([...images].map(([p, c]) => [p, goImage(c)])) }
    : { shape: IMAGE, json: first === undefined ? undefined : goImage(first) };
  const root: Shape = {
    kind: 'struct',
    type: 'imagetools.tplInput',
    fields: { Name: ['name', STRING], Manifest: ['manifest', manifest.shape], Image: ['image', image.shape] },
  };
  return { shape: root, json: { name: ins.name, manifest: manifest.json, image: image.json } };
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/** goTimeString prints a time as Go's time.Time.String does (`2024-01-02 03:04:05.5 +0000 UTC`). */
export function goTimeString(value: string): string {
  const m = RFC3339.exec(value);
  if (m === null) return value;
  const fraction = (m[3] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[4] === 'Z' || m[4] === '+00:00' ? '+0000 UTC' : `${(m[4] ?? '').replace(':', '')} ${(m[4] ?? '').replace(':', '')}`;
  return `${m[1] ?? ''} ${m[2] ?? ''}${fraction === '' ? '' : `.${fraction}`} ${zone}`;
}
