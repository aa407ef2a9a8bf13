/**
 * The differences between BuildKit's image and tbuild's that the comparison accepts, each with its reason.
 * Keep this list tight: a difference that is not here fails its case.
 */

/** AllowedDifference lets some fields of some paths differ. */
export interface AllowedDifference {
  /** Paths it applies to. */
  readonly paths: RegExp;
  /** Fields of those paths that may differ; 'presence' also lets a path exist on one side only. */
  readonly fields: readonly ('size' | 'sha256' | 'presence')[];
  /** Why the difference is accepted. */
  readonly reason: string;
}

/**
 * File times are not in the fingerprint at all: BuildKit's layers keep the times the build gave its files, and so do
 * tbuild's, so no two builds agree on them. SOURCE_DATE_EPOCH does not change that in either: both clamp layer times
 * only when the image output has rewrite-timestamp=true, which no case asks for. History dates ("created") are left
 * out for the same reason, except in cases that compare them. Everything else about a path is compared unless an
 * entry below says otherwise.
 */
export const UNCOMPARED_FIELDS = ['mtime', 'atime', 'ctime', 'history.created', 'config.created'] as const;

/** ALLOWED_DIFFERENCES are the path-level differences accepted, with their reasons. */
export const ALLOWED_DIFFERENCES: readonly AllowedDifference[] = [
  {
    paths: /^\/var\/log\/(apt\/(eipp\.log\.xz|history\.log|term\.log)|dpkg\.log|alternatives\.log)$/,
    fields: ['size', 'sha256'],
    reason: 'apt and dpkg logs record the date and time of each installation',
  },
  {
    paths: /^\/var\/lib\/apt\/lists\/.+$/,
    fields: ['size', 'sha256', 'presence'],
    reason: 'apt lists are the mirror\'s index at the time of `apt-get update`; the mirror changes daily and names partial downloads after them',
  },
  {
    paths: /^\/var\/cache\/apt\/(pkgcache|srcpkgcache)\.bin$/,
    fields: ['size', 'sha256', 'presence'],
    reason: 'apt\'s binary caches are built from the lists above and embed their timestamps',
  },
  {
    paths: /^\/var\/cache\/ldconfig\/aux-cache$/,
    fields: ['size', 'sha256'],
    reason: 'ldconfig\'s auxiliary cache records the inode numbers and change times of the libraries it scanned',
  },
  {
    paths: /^\/var\/lib\/dpkg\/(status|status-old)$|^\/var\/cache\/debconf\/(config|templates)\.dat(-old)?$/,
    fields: ['size', 'sha256'],
    reason: 'dpkg and debconf databases list every installed package with its version, so they follow the base '
      + 'image\'s debootstrap date (CI bootstraps bookworm again), not the build',
  },
  {
    paths: /^\/etc\/(shadow|shadow-)$/,
    fields: ['size', 'sha256'],
    reason: 'useradd and groupadd write the day of the change (days since 1970) into each new shadow entry',
  },
];

/** allowedFields returns the fields that may differ for path. */
export function allowedFields(path: string): ReadonlySet<string> {
  const fields = new Set<string>();
  for (const entry of ALLOWED_DIFFERENCES) if (entry.paths.test(path)) for (const f of entry.fields) fields.add(f);
  return fields;
}
