// What `--call targets`, `--call outline` and `--call subrequests.describe` answer: BuildKit's subrequest results
// (frontend/subrequests), with the JSON field names and the empty fields left out as Go's encoding/json leaves them.
import { lineRanges, type LineRange, type SourceLocation } from '../../base/errors.js';

/** DescribeLocation is BuildKit's pb.Location: one range per line in the Dockerfile, source 0. */
export interface DescribeLocation {
  /** Left out when 0 (always here), as Go leaves it out. */
  readonly sourceIndex?: number;
  readonly ranges: readonly LineRange[];
}

/** Target is one stage of `frontend.targets`. */
export interface Target {
  readonly name?: string;
  readonly default?: true;
  readonly description?: string;
  readonly base?: string;
  readonly platform?: string;
  readonly location?: DescribeLocation;
}

/** TargetList is the `frontend.targets` result: every stage, the last one the default, and the Dockerfile. */
export interface TargetList {
  readonly targets: readonly Target[];
  /** The Dockerfile, base64 as Go encodes bytes. */
  readonly sources: readonly string[];
}

/** OutlineArg is a build arg the target uses, with its value (after --build-arg) and description. */
export interface OutlineArg {
  readonly name: string;
  readonly description?: string;
  readonly value?: string;
  readonly location?: DescribeLocation;
}

/** OutlineMount is a secret or SSH agent a RUN of the target mounts. */
export interface OutlineMount {
  readonly name: string;
  readonly required?: true;
  readonly location?: DescribeLocation;
}

/** Outline is the `frontend.outline` result for the target stage. */
export interface Outline {
  readonly name?: string;
  readonly description?: string;
  readonly args?: readonly OutlineArg[];
  readonly secrets?: readonly OutlineMount[];
  readonly ssh?: readonly OutlineMount[];
  readonly sources?: readonly string[];
}

/** Subrequest describes one request the frontend answers besides a build (`frontend.subrequests.describe`). */
export interface Subrequest {
  readonly name: string;
  readonly version: string;
  readonly type: 'rpc';
  readonly description: string;
  readonly opts: readonly { readonly name: string; readonly description: string }[] | null;
  readonly inputs: null;
  readonly metadata: readonly { readonly name: string; readonly description: string }[];
  readonly refs: null;
}

/** describeLocation is a Dockerfile location as BuildKit's subrequests give it. */
export function describeLocation(location: SourceLocation): DescribeLocation {
  return { ranges: lineRanges(location) };
}

/** docComment is the description a comment line above an instruction gives `name`: the rest of a line `NAME text`. */
export function docComment(comments: readonly string[], name: string | undefined): string {
  if (name === undefined || name === '') return '';
  for (const line of comments) if (line.startsWith(`${name} `)) return line.slice(name.length + 1);
  return '';
}
