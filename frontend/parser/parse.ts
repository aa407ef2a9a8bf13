import { DockerfileError, type SourceLocation } from '../../base/errors.js';
import { DirectiveState } from './directives.js';
import { nodeFromLine } from './dispatch.js';
import { trimGoSpace, trimLeftGoSpace } from './go-text.js';
import { canContainHeredoc, heredocsFromLine } from './heredoc.js';
import { newNode, type MutableNode, type Node } from './node.js';

/** ParseWarning is a non-fatal finding, such as an empty continuation line. */
export interface ParseWarning {
  readonly message: string;
  readonly location: SourceLocation;
  readonly url?: string;
}

/** ParseResult is a parsed Dockerfile: the tree, warnings, escape token and parser directives. */
export interface ParseResult {
  readonly ast: Node;
  readonly warnings: readonly ParseWarning[];
  readonly escapeToken: string;
  readonly directives: Readonly<Record<string, string>>;
}

/** ParseOptions names the file being parsed, for error locations. */
export interface ParseOptions {
  readonly file: string;
}

/** MAX_LINE_BYTES is the longest physical line accepted (Go's bufio.MaxScanTokenSize - 1). */
const MAX_LINE_BYTES = 65535;
const EMPTY_CONTINUATION_URL = 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/';

/** splitPhysicalLines cuts text into lines that keep their `\n`. */
function splitPhysicalLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function trimNewline(line: string): string {
  return line.replace(/[\r\n]+$/, '');
}

function isComment(line: string): boolean {
  return trimLeftGoSpace(trimNewline(line)).startsWith('#');
}

/** LineReader hands out physical lines and counts them. */
class LineReader {
  private readonly lines: string[];
  lineNumber = 0;
  constructor(
    text: string,
    private readonly file: string,
  ) {
    this.lines = splitPhysicalLines(text);
  }

  next(): string | undefined {
    const line = this.lines[this.lineNumber];
    if (line === undefined) return undefined;
    this.lineNumber++;
    if (Buffer.byteLength(trimNewline(line)) > MAX_LINE_BYTES) {
      throw new DockerfileError(`dockerfile line greater than max allowed size of ${MAX_LINE_BYTES}`, {
        code: 'DOCKERFILE_SYNTAX',
        location: { file: this.file, startLine: this.lineNumber, endLine: this.lineNumber, column: 1 },
      });
    }
    return this.lineNumber === 1 ? line.replace(/^\uFEFF/, '') : line;
  }
}

/** withLocation gives a location-less DockerfileError the range of the instruction it came from. */
function withLocation(err: unknown, location: SourceLocation): unknown {
  if (err instanceof DockerfileError && err.location === undefined) {
    return new DockerfileError(err.message, { code: err.code, location, cause: err });
  }
  return err;
}

/** parseDockerfile parses Dockerfile text into BuildKit's syntax tree; it throws DockerfileError on bad input. */
export function parseDockerfile(text: string, options: ParseOptions): ParseResult {
  const directives = new DirectiveState();
  const reader = new LineReader(text, options.file);
  const root = newNode('');
  root.startLine = -1;
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  const at = (startLine: number, endLine: number, column = 1): SourceLocation => ({
    file: options.file,
    startLine,
    endLine: Math.max(startLine, endLine),
    column,
  });

  for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
    const startLine = reader.lineNumber;
    if (isComment(raw)) {
      // As in BuildKit, an empty comment line ends the comments an instruction carries.
      const comment = trimGoSpace(raw.slice(1));
      if (comment === '') comments = [];
      else comments.push(comment);
    }
    const first = trimLeftGoSpace(trimNewline(raw));
    const column = Array.from(trimNewline(raw)).length - Array.from(first).length + 1;
    try {
      // A directive is not a comment of the first instruction.
      if (directives.observe(first)) comments.pop();
    } catch (err) {
      throw withLocation(err, at(startLine, startLine));
    }
    const joined = joinContinuation(first, reader, directives);
    if (joined === undefined) continue;
    if (joined.hadEmptyLine) {
      warnings.push({
        message: `Empty continuation line found in: ${joined.line}`,
        location: at(reader.lineNumber, reader.lineNumber),
        url: EMPTY_CONTINUATION_URL,
      });
    }
    let child: MutableNode;
    try {
      child = nodeFromLine(joined.line, directives.escapeToken, comments);
      if (canContainHeredoc(child) && joined.line.includes('<<')) readHeredocs(child, joined.line, reader);
    } catch (err) {
      throw withLocation(err, at(startLine, reader.lineNumber, column));
    }
    addChild(root, child, startLine, reader.lineNumber);
    comments = [];
  }
  if (root.startLine < 0) {
    const line = Math.max(1, reader.lineNumber);
    throw new DockerfileError('Cannot parse a file with no instructions', {
      code: 'DOCKERFILE_SYNTAX',
      location: at(line, line),
    });
  }
  return { ast: root, warnings, escapeToken: directives.escapeToken, directives: { ...directives.values } };
}

/** joinContinuation joins the continuation lines of one instruction; undefined for a line with nothing in it. */
function joinContinuation(
  first: string,
  reader: LineReader,
  directives: DirectiveState,
): { line: string; hadEmptyLine: boolean } | undefined {
  const stripComment = (s: string): string => (s.startsWith('#') ? '' : s);
  let { text: line, ended } = trimContinuation(stripComment(first), directives.lineContinuation);
  if (ended && line === '') return undefined;
  let hadEmptyLine = false;
  while (!ended) {
    const raw = reader.next();
    if (raw === undefined) break;
    const content = trimNewline(raw);
    directives.observe(content);
    // Comment lines and empty lines inside a continuation are skipped.
    if (isComment(raw)) continue;
    if (trimLeftGoSpace(content) === '') {
      hadEmptyLine = true;
      continue;
    }
    const part = trimContinuation(content, directives.lineContinuation);
    line += part.text;
    ended = part.ended;
  }
  return { line, hadEmptyLine };
}

function trimContinuation(line: string, continuation: RegExp): { text: string; ended: boolean } {
  if (!continuation.test(line)) return { text: line, ended: true };
  return { text: line.replace(continuation, '$1'), ended: false };
}

/** readHeredocs reads the bodies of the heredocs opened on line, in order, from the following lines. */
function readHeredocs(child: MutableNode, line: string, reader: LineReader): void {
  for (const header of heredocsFromLine(line)) {
    let content = '';
    let terminated = false;
    for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
      let candidate = trimNewline(raw);
      if (header.chomp) candidate = candidate.replace(/^\t+/, '');
      if (candidate === header.name) {
        terminated = true;
        break;
      }
      content += raw;
    }
    if (!terminated) throw new DockerfileError('Cannot find the end of a heredoc: unterminated heredoc', { code: 'DOCKERFILE_SYNTAX' });
    child.heredocs.push({ ...header, content });
  }
}

/** addChild appends an instruction to the root and widens the root's line range. */
function addChild(root: MutableNode, child: MutableNode, startLine: number, endLine: number): void {
  setLines(child, startLine, endLine);
  if (root.startLine < 0) root.startLine = startLine;
  root.endLine = endLine;
  root.children.push(child);
}

/** setLines gives an instruction, its arguments and any nested instruction the same line range. */
function setLines(node: MutableNode, startLine: number, endLine: number): void {
  for (let n: MutableNode | undefined = node; n !== undefined; n = n.next) {
    n.startLine = startLine;
    n.endLine = endLine;
    for (const c of n.children) setLines(c, startLine, endLine);
  }
}
