import { cleanPath } from './clean-path.js';

/**
 * readIgnoreFile turns .dockerignore text into patterns: `#` comment lines (at column 1) and blank lines
 * are dropped, each pattern is trimmed and cleaned, one leading `/` is removed, and a leading `!` is kept.
 */
export function readIgnoreFile(content: string | null): string[] {
  if (content === null) return [];
  const patterns: string[] = [];
  const lines = content.replace(/^\uFEFF/, '').split('\n');
  // A final newline ends the last line rather than starting an empty one.
  if (lines[lines.length - 1] === '') lines.pop();
  for (const rawLine of lines) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith('#')) continue;
    let pattern = trimSpace(line);
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = trimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    patterns.push(invert ? `!${pattern}` : pattern);
  }
  return patterns;
}

function trimSpace(s: string): string {
  return s.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}
