/** HttpSource is a file downloaded from an HTTP(S) URL (ADD <url>), keyed by the content it yields. */
export interface HttpSource {
  readonly type: 'http';
  readonly url: string;
  /** Expected digest (`sha256:<hex>`) of the download; a mismatch fails the build. */
  readonly checksum?: string;
  /** Name of the file in the source's tree; empty means taken from Content-Disposition or the URL path. */
  readonly filename: string;
}

/** GitSource is a checkout of a git repository (ADD <git url>), keyed by the commit it resolves to. */
export interface GitSource {
  readonly type: 'git';
  /** Remote as git accepts it, without the `#ref:subdir` fragment. */
  readonly remote: string;
  /** Branch, tag or commit; empty means the remote's HEAD. */
  readonly ref: string;
  /** Folder of the repository that becomes the root of the source; empty means the whole tree. */
  readonly subdir: string;
  /** Keep the .git folder in the checkout. */
  readonly keepGitDir: boolean;
  /** Check out the submodules too (the default; `?submodules=false` says no). */
  readonly submodules?: boolean;
  /** `commit` gives every file the commit's time (`?mtime=commit`); by default files have the checkout's time. */
  readonly mtime?: 'commit';
  /** Expected commit (full or abbreviated hex, `ADD --checksum`); another commit fails the build. */
  readonly checksum?: string;
}
