import { isGoSpace, splitWhitespace, trimGoSpace } from './go-text.js';

/** SplitCommand is one logical line cut into keyword, leading flags and the rest. */
export interface SplitCommand {
  readonly keyword: string;
  readonly flags: string[];
  readonly args: string;
}

/** splitCommand separates the instruction keyword, its `--flags` and the remaining argument text. */
export function splitCommand(line: string): SplitCommand {
  const parts = splitWhitespace(trimGoSpace(line), 2);
  const keyword = parts[0] ?? '';
  if (parts.length < 2) return { keyword, flags: [], args: '' };
  const { rest, flags } = extractFlags(parts[1] ?? '');
  return { keyword, flags, args: trimGoSpace(rest) };
}

/**
 * extractFlags collects the leading words that start with `--` (quotes removed, `\` escapes applied);
 * a bare `--` ends the flags and is dropped. The backslash is used here whatever the escape token is.
 */
function extractFlags(line: string): { rest: string; flags: string[] } {
  const flags: string[] = [];
  const chars = Array.from(line);
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  let offset = 0; // UTF-16 offset of chars[pos]
  for (let pos = 0; pos <= chars.length; pos++) {
    const ch = chars[pos] ?? '';
    const atEnd = pos === chars.length;
    if (phase === 'spaces') {
      if (atEnd) break;
      if (isGoSpace(ch)) {
        offset += ch.length;
        continue;
      }
      if (ch !== '-' || chars[pos + 1] !== '-') return { rest: line.slice(offset), flags };
      phase = 'word';
    }
    if (atEnd) {
      if (word !== '--' && (blankOK || word.length > 0)) flags.push(word);
      break;
    }
    offset += ch.length;
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(offset - ch.length), flags };
        if (blankOK || word.length > 0) flags.push(word);
        word = '';
        blankOK = false;
      } else if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      } else if (ch === '\\') {
        if (pos + 1 === chars.length) continue;
        pos++;
        const escaped = chars[pos] ?? '';
        offset += escaped.length;
        word += escaped;
      } else {
        word += ch;
      }
      continue;
    }
    if (ch === quote) {
      phase = 'word';
    } else if (ch === '\\') {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      pos++;
      const escaped = chars[pos] ?? '';
      offset += escaped.length;
      word += escaped;
    } else {
      word += ch;
    }
  }
  return { rest: '', flags };
}
