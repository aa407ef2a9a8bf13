import { goQuote } from './go-quote.js';
import { trimGoSpace } from './go-text.js';
import type { Node } from './node.js';

/** dumpAst renders a syntax tree in BuildKit's debug dump format: one `(keyword [flags] args...)` per line. */
export function dumpAst(root: Node): string {
  let out = root.value.toLowerCase();
  if (root.flags.length > 0) out += ` [${root.flags.map(goQuote).join(' ')}]`;
  for (const child of root.children) out += `(${dumpAst(child)})\n`;
  for (let n = root.next; n !== undefined; n = n.next) {
    out += ' ' + (n.children.length > 0 ? dumpAst(n) : goQuote(n.value));
  }
  return trimGoSpace(out);
}
