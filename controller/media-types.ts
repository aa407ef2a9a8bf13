import { UsageError } from '../base/errors.js';
import type { BuildRequest } from './request.js';

/**
 * checkMediaTypes refuses, before building, what an output with Docker media types cannot carry, as BuildKit refuses
 * it: attestations (which it would attach: pushed images take them all, OCI archives all but the default provenance)
 * and annotations of an index or OCI layout.
 */
export function checkMediaTypes(request: Pick<BuildRequest, 'outputs' | 'attestations'>): void {
  const specs = request.attestations ?? [];
  for (const o of request.outputs) {
    if (!('image' in o) || o.image.ociMediaTypes !== false) continue;
    const attested = (o.type === 'image' && o.push) || (o.type === 'oci' && specs.some((s) => s.type !== 'provenance' || s.inlineOnly !== true));
    if (attested && specs.length > 0) {
      throw new UsageError(`Cannot export attestations with oci-mediatypes=false (--output type=${o.type}): a Docker image has no place for them`, {
        hint: 'drop oci-mediatypes=false, or turn the attestations off (--provenance=false, --sbom=false; BUILDX_NO_DEFAULT_ATTESTATIONS=1 for the default provenance of pushes)',
      });
    }
    if (Object.keys(o.image.annotations?.index ?? {}).length > 0) {
      throw new UsageError(`Cannot export index annotations with oci-mediatypes=false (--output type=${o.type}): a Docker manifest list has no annotations`, {
        hint: 'annotate the manifest (annotation.KEY=VALUE) or drop oci-mediatypes=false',
      });
    }
  }
}
