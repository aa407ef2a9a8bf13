import { DockerfileError } from '../../base/errors.js';
import { splitWhitespace, trimLeftGoSpace, isGoSpace } from './go-text.js';
import { newNode, type MutableNode } from './node.js';
import { parseWords } from './parse-words.js';

/** LineParseResult is the argument chain of one instruction. */
export interface LineParseResult {
  readonly next: MutableNode | undefined;
  readonly json: boolean;
}

/** LineParser turns an instruction's argument text into argument nodes. */
export type LineParser = (rest: string, escapeToken: string) => LineParseResult;

function syntaxError(message: string): DockerfileError {
  return new DockerfileError(message, { code: 'DOCKERFILE_SYNTAX' });
}

const NONE: LineParseResult = { next: undefined, json: false };

/** chain links values into a list of argument nodes. */
function chain(values: readonly string[]): MutableNode | undefined {
  let head: MutableNode | undefined;
  for (let i = values.length - 1; i >= 0; i--) head = newNode(values[i] ?? '', head);
  return head;
}

/** parseIgnore handles unknown keywords: one empty argument, rejected later by instruction parsing. */
export const parseIgnore: LineParser = () => ({ next: newNode(''), json: false });

/** parseString keeps the whole argument text as one node. */
export const parseString: LineParser = (rest) => (rest === '' ? NONE : { next: newNode(rest), json: false });

/** parseWhitespaceDelimited makes one node per whitespace-separated word. */
export const parseWhitespaceDelimited: LineParser = (rest) =>
  rest === '' ? NONE : { next: chain(splitWhitespace(rest)), json: false };

/** parseNameOrNameValue makes one node per quote-aware word (ARG). */
export const parseNameOrNameValue: LineParser = (rest, escapeToken) => ({
  next: chain(parseWords(rest, escapeToken)),
  json: false,
});

type JsonOutcome = { kind: 'json'; values: string[] } | { kind: 'not-json' };

/** parseJsonArray reads a JSON array of strings; other valid JSON is an error, invalid JSON is not JSON. */
function parseJsonArray(rest: string): JsonOutcome {
  const text = trimLeftGoSpace(rest);
  if (!text.startsWith('[')) return { kind: 'not-json' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    if (err instanceof SyntaxError) return { kind: 'not-json' };
    throw err;
  }
  if (!Array.isArray(parsed)) return { kind: 'not-json' };
  const values: string[] = [];
  for (const item of parsed) {
    if (typeof item !== 'string') {
      throw syntaxError('when using JSON array syntax, arrays must be comprised of strings only');
    }
    values.push(item);
  }
  return { kind: 'json', values };
}

/** parseMaybeJson reads exec form (a JSON array) or else keeps the text as one node (RUN, CMD, ...). */
export const parseMaybeJson: LineParser = (rest) => {
  if (rest === '') return NONE;
  const outcome = parseJsonArray(rest);
  if (outcome.kind === 'json') return { next: chain(outcome.values), json: true };
  return { next: newNode(rest), json: false };
};

/** parseMaybeJsonToList reads a JSON array or else splits on white space (ADD, COPY, VOLUME). */
export const parseMaybeJsonToList: LineParser = (rest, escapeToken) => {
  const outcome = parseJsonArray(rest);
  if (outcome.kind === 'json') return { next: chain(outcome.values), json: true };
  return parseWhitespaceDelimited(rest, escapeToken);
};

/** parseHealthConfig takes the first word (CMD, NONE, ...) and parses the rest like CMD. */
export const parseHealthConfig: LineParser = (rest, escapeToken) => {
  const chars = Array.from(rest);
  let sep = 0;
  while (sep < chars.length && !isGoSpace(chars[sep] ?? '')) sep++;
  let next = sep;
  while (next < chars.length && isGoSpace(chars[next] ?? '')) next++;
  if (sep === 0) return NONE;
  const cmd = parseMaybeJson(chars.slice(next).join(''), escapeToken);
  return { next: newNode(chars.slice(0, sep).join(''), cmd.next), json: cmd.json };
};

/** makeNameValueParser builds the ENV/LABEL parser: legacy `KEY value` or `k=v` pairs. */
export function makeNameValueParser(keyword: string): LineParser {
  return (rest, escapeToken) => {
    const words = parseWords(rest, escapeToken);
    if (words.length === 0) return NONE;
    // The third node records the form: "" for legacy, "=" for key=value.
    if (!(words[0] ?? '').includes('=')) {
      const parts = splitWhitespace(rest, 2);
      if (parts.length < 2) throw syntaxError(`${keyword} must have two arguments`);
      return { next: chain([parts[0] ?? '', parts[1] ?? '', '']), json: false };
    }
    const values: string[] = [];
    for (const word of words) {
      const eq = word.indexOf('=');
      if (eq < 0) {
        throw syntaxError(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
      }
      values.push(word.slice(0, eq), word.slice(eq + 1), '=');
    }
    return { next: chain(values), json: false };
  };
}
