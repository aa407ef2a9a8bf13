// A hand-written port of BuildKit's parser rather than dockerfile-ast, because only a port reproduces
// BuildKit's AST (argument shapes, line joining, warnings) byte for byte.
export { parseDockerfile } from './parse.js';
export type { ParseOptions, ParseResult, ParseWarning } from './parse.js';
export { dumpAst } from './dump.js';
export { chompHeredocContent } from './node.js';
export type { Heredoc, Node } from './node.js';
export { parseWords } from './parse-words.js';
export { goQuote } from './go-quote.js';
