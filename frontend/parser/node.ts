/** Heredoc is one here-document attached to RUN, COPY or ADD; content is raw (see chompHeredocContent). */
export interface Heredoc {
  readonly name: string;
  readonly content: string;
  /** False when any part of the delimiter word was quoted: the content is then not expanded. */
  readonly expand: boolean;
  /** True for `<<-`: leading tabs are stripped from content lines and the terminator. */
  readonly chomp: boolean;
}

/** Node is one node of the Dockerfile syntax tree, shaped like BuildKit's parser.Node. */
export interface Node {
  /** Root children: the lower-cased instruction name; argument nodes: the argument text. */
  readonly value: string;
  /** The next argument node. */
  readonly next: Node | undefined;
  /** Only the root (the instructions) and ONBUILD's argument node (the nested instruction) have children. */
  readonly children: readonly Node[];
  readonly attributes: { readonly json?: boolean };
  /** The original logical line, continuation lines joined. */
  readonly original: string;
  /** Leading `--flag` words, with quotes removed, such as "--from=builder". */
  readonly flags: readonly string[];
  readonly heredocs: readonly Heredoc[];
  /** First line, 1-based. */
  readonly startLine: number;
  /** Last line, 1-based (heredoc bodies included). */
  readonly endLine: number;
  /** The comment lines directly above the instruction, without `#`. */
  readonly prevComment: readonly string[];
}

/** MutableNode is the parser's working form of Node. */
export interface MutableNode {
  value: string;
  next: MutableNode | undefined;
  children: MutableNode[];
  attributes: { json?: boolean };
  original: string;
  flags: string[];
  heredocs: Heredoc[];
  startLine: number;
  endLine: number;
  prevComment: string[];
}

/** newNode makes a node holding value and nothing else. */
export function newNode(value: string, next?: MutableNode): MutableNode {
  return {
    value,
    next,
    children: [],
    attributes: {},
    original: '',
    flags: [],
    heredocs: [],
    startLine: 0,
    endLine: 0,
    prevComment: [],
  };
}

/** chompHeredocContent strips leading tabs from every line, as `<<-` asks. */
export function chompHeredocContent(content: string): string {
  return content.replace(/^\t+/gm, '');
}
