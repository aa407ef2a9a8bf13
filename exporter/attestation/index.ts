/** Build attestations: SLSA provenance and SPDX SBOMs as in-toto statements, attached to images as BuildKit does. */
export { formatPackageUrl, imagePackageUrl, pathEscape, queryEscape, type PackageUrl } from './purl.js';
export * from './sbom/index.js';
export {
  provenancePredicate,
  redactCredentials,
  commitDigestSet,
  goTime,
  SLSA_PROVENANCE_V02,
  BUILD_TYPE,
  FRONTEND,
  type ProvenanceCapture,
  type ProvenanceOptions,
  type ProvenancePredicate,
  type ProvenanceMetadata,
  type ProvenanceSecret,
  type ProvenanceStep,
} from './provenance.js';
export {
  imageSubjects,
  makeStatement,
  IN_TOTO_MEDIA_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  PREDICATE_TYPE_ANNOTATION,
  type Statement,
  type StatementSubject,
} from './statement.js';
export {
  attachAttestations,
  attestedIndex,
  indexEntries,
  writeAttestationManifest,
  ATTESTATION_ARTIFACT_TYPE,
  ATTESTATION_REFERENCE_TYPE,
  EMPTY_JSON_MEDIA_TYPE,
  REFERENCE_DIGEST_ANNOTATION,
  REFERENCE_TYPE_ANNOTATION,
  UNKNOWN_PLATFORM,
  type AttachOptions,
  type AttestationManifest,
  type AttestedImage,
  type StoredBlob,
} from './attach.js';
export { pushAttestationManifest, pushAttestedImage, type PushAttestedOptions } from './push.js';
export { pushReferrers, type ReferrersOutcome } from './referrers.js';
export { provenanceV1, SLSA_PROVENANCE_V1, BUILD_TYPE_V1, type ProvenancePredicateV1 } from './provenance-v1.js';
export { ATTESTATION_FILE_NAMES, fileSubjects, writeAttestationLayer, type AttestationLayer } from './files.js';
