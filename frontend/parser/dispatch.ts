import {
  makeNameValueParser,
  parseHealthConfig,
  parseIgnore,
  parseMaybeJson,
  parseMaybeJsonToList,
  parseNameOrNameValue,
  parseString,
  parseWhitespaceDelimited,
  type LineParser,
} from './line-parsers.js';
import { newNode, type MutableNode } from './node.js';
import { splitCommand } from './split-command.js';

const DISPATCH: ReadonlyMap<string, LineParser> = new Map([
  ['add', parseMaybeJsonToList],
  ['arg', parseNameOrNameValue],
  ['cmd', parseMaybeJson],
  ['copy', parseMaybeJsonToList],
  ['entrypoint', parseMaybeJson],
  ['env', makeNameValueParser('ENV')],
  ['expose', parseWhitespaceDelimited],
  ['from', parseWhitespaceDelimited],
  ['healthcheck', parseHealthConfig],
  ['label', makeNameValueParser('LABEL')],
  ['maintainer', parseString],
  ['run', parseMaybeJson],
  ['shell', parseMaybeJson],
  ['stopsignal', parseString],
  ['user', parseString],
  ['volume', parseMaybeJsonToList],
  ['workdir', parseString],
]);

/** nodeFromLine parses one logical line into an instruction node with its arguments. */
export function nodeFromLine(line: string, escapeToken: string, comments: readonly string[]): MutableNode {
  const { keyword, flags, args } = splitCommand(line);
  const value = keyword.toLowerCase();
  const node = newNode(value);
  node.original = line;
  node.flags = flags;
  node.prevComment = [...comments];
  if (value === 'onbuild') {
    // ONBUILD's argument is a whole instruction, kept as the child of one argument node.
    if (args !== '') {
      const holder = newNode('');
      holder.children = [nodeFromLine(args, escapeToken, [])];
      node.next = holder;
    }
    return node;
  }
  const parser = DISPATCH.get(value) ?? parseIgnore;
  const parsed = parser(args, escapeToken);
  node.next = parsed.next;
  if (parsed.json) node.attributes = { json: true };
  return node;
}
