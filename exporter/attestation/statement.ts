import { digestHex, type Digest } from '../../base/digest.js';
import type { Platform } from '../../base/oci.js';
import { imagePackageUrl } from './purl.js';

/** IN_TOTO_STATEMENT_TYPE is the `_type` of an in-toto statement, v1 as BuildKit writes them. */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** IN_TOTO_MEDIA_TYPE is the media type of an in-toto statement blob (a layer of an attestation manifest). */
export const IN_TOTO_MEDIA_TYPE = 'application/vnd.in-toto+json';
/** PREDICATE_TYPE_ANNOTATION names a statement layer's predicate type, so readers pick a statement without fetching it. */
export const PREDICATE_TYPE_ANNOTATION = 'in-toto.io/predicate-type';

/** StatementSubject is what a statement is about: an artifact by name and digest. */
export interface StatementSubject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

/** Statement is an in-toto statement: subjects and a typed predicate about them. */
export interface Statement {
  readonly _type: typeof IN_TOTO_STATEMENT_TYPE;
  readonly predicateType: string;
  readonly subject: readonly StatementSubject[];
  readonly predicate: unknown;
}

/**
 * imageSubjects names an image manifest once per image name, as BuildKit's default subjects: the name's package URL
 * with the platform (`pkg:docker/team/app@v1?platform=linux%2Famd64`) and the manifest's sha256. An image without a
 * name has no subject, as in BuildKit.
 */
export function imageSubjects(names: readonly string[], manifest: Digest, platform: Platform): StatementSubject[] {
  return names.map((name) => ({ name: imagePackageUrl(name, platform), digest: { sha256: digestHex(manifest) } }));
}

/** makeStatement wraps a predicate in an in-toto statement, its members in the order BuildKit writes them. */
export function makeStatement(predicateType: string, predicate: unknown, subject: readonly StatementSubject[]): Statement {
  return { _type: IN_TOTO_STATEMENT_TYPE, predicateType, subject, predicate };
}
