import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../base/errors.js';
import { dumpAst, parseDockerfile, type Node } from '../../frontend/index.js';
import { parseStages } from '../../frontend/instructions/index.js';
import { fuzzParams, fuzzTimeout } from './budget.js';

const CONFORMANCE = join(import.meta.dirname, '../../../shared/conformance/buildkit-parser');

// Real Dockerfiles to mutate: BuildKit's parser test files, positive and negative.
const seeds: string[] = ['testfiles', 'testfiles-negative'].flatMap((dir) =>
  readdirSync(join(CONFORMANCE, dir)).map((name) => readFileSync(join(CONFORMANCE, dir, name, 'Dockerfile'), 'utf8')),
);

const keyword = fc.constantFrom(
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER', 'WORKDIR',
  'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'from', 'Run', 'ONBUILD RUN', 'ONBUILD ONBUILD', 'FORM', '',
);
// Argument pieces: flags, JSON forms, heredocs, quotes, escapes, continuations and the characters the parser splits on.
const argPiece = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(' ', '\t', 'a', 'b=c', 'x y', '"', "'", '\\', '`', '=', '$A', '${A:-x}', '#', 'é', '\u{1F600}', '\r') },
  { weight: 3, arbitrary: fc.constantFrom('--from=a', '--mount=type=cache,target=/c', '--mount=type=bind,from=x,source=/', '--chmod=755', '--chown=1:1', '--link', '--platform=$BUILDPLATFORM', '--network=none', '--security=insecure', '--interval=5s', '--', '--=', '--x') },
  { weight: 3, arbitrary: fc.constantFrom('["a", "b"]', '[]', '["', '[1]', '["a",]', '{"a":1}', '["\\u0041"]', '["\\ud800"]', 'CMD ["x"]', 'NONE') },
  { weight: 2, arbitrary: fc.constantFrom('<<EOF', '<<-EOF', '<<"EOF"', "<<'E O'", '<<EOF <<END', '<<', '<<-', '<<$X') },
  { weight: 2, arbitrary: fc.constantFrom('\\\n', '`\n', '\\\n\n', '\\\n# c\n', ' \\ \n', '\n', '\nEOF\n', '\n\tEOF\n', '\nEND\n') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6, unit: 'binary' }) },
);
const line = fc.tuple(fc.constantFrom('', ' ', '\t'), keyword, fc.array(argPiece, { maxLength: 12 })).map(([indent, k, args]) => `${indent}${k} ${args.join('')}`);
const header = fc.constantFrom('', '# escape=`\n', '# escape=\\\n', '# syntax=docker/dockerfile:1\n', '# check=skip=all\n', '#escape=x\n', '# escape=`\n# escape=\\\n', '\uFEFF', '# comment\n');
const generated = fc.tuple(header, fc.array(line, { maxLength: 12 })).map(([h, lines]) => h + lines.join('\n'));

// Mutations of the seed files: a slice replaced by a few pieces, a line repeated, or the text cut.
const mutated = fc
  .tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat({ max: 40 }), fc.array(argPiece, { maxLength: 4 }), fc.constantFrom('splice', 'cut', 'dup'))
  .map(([seed, at, span, pieces, how]) => {
    const i = at % (seed.length + 1);
    if (how === 'cut') return seed.slice(0, i);
    if (how === 'dup') return seed.slice(0, i) + seed.slice(Math.max(0, i - span), i) + seed.slice(i);
    return seed.slice(0, i) + pieces.join('') + seed.slice(i + span);
  });

const dockerfile = fc.oneof(generated, mutated);

type Parsed = { ok: true; dump: string; ast: Node } | { ok: false; message: string; line: number };

function lineCount(text: string): number {
  return Math.max(1, text.split('\n').length);
}

/** parse returns the tree or the error; anything but a DockerfileError with a line in the file is a bug. */
function parse(text: string): Parsed {
  try {
    const { ast } = parseDockerfile(text, { file: 'Dockerfile' });
    return { ok: true, dump: dumpAst(ast), ast };
  } catch (err) {
    if (!(err instanceof DockerfileError)) throw err;
    const loc = err.location;
    if (loc === undefined) throw new Error(`DockerfileError without a location: ${err.message}`);
    expect(loc.startLine).toBeGreaterThanOrEqual(1);
    expect(loc.startLine).toBeLessThanOrEqual(loc.endLine);
    expect(loc.endLine).toBeLessThanOrEqual(lineCount(text));
    return { ok: false, message: err.message, line: loc.startLine };
  }
}

/** stages groups the parsed instructions; it too may only fail with a located DockerfileError. */
function stages(ast: Node, text: string): void {
  try {
    parseStages(ast, 'Dockerfile');
  } catch (err) {
    if (!(err instanceof DockerfileError)) throw err;
    if (err.location === undefined) throw new Error(`DockerfileError without a location: ${err.message}`);
    expect(err.location.startLine).toBeGreaterThanOrEqual(1);
    expect(err.location.endLine).toBeLessThanOrEqual(lineCount(text));
  }
}

/** argsOf is what an instruction parses to, without its lines: what must survive being written out again. */
function argsOf(n: Node): unknown {
  const chain: unknown[] = [];
  for (let a = n.next; a !== undefined; a = a.next) chain.push([a.value, a.children.map(argsOf)]);
  return [n.value, n.flags, n.attributes.json === true, chain];
}

describe('the Dockerfile parser under random and mutated files', () => {
  it('parses or fails with a located DockerfileError, the same way each time, and so do the instructions', () => {
    fc.assert(
      fc.property(dockerfile, (text) => {
        const first = parse(text);
        const again = parse(text);
        expect(again.ok ? again.dump : again).toEqual(first.ok ? first.dump : first);
        if (!first.ok) return;
        for (const child of first.ast.children) {
          expect(child.startLine).toBeGreaterThanOrEqual(1);
          expect(child.endLine).toBeLessThanOrEqual(lineCount(text));
        }
        stages(first.ast, text);
      }),
      fuzzParams(400),
    );
  }, fuzzTimeout(60_000));

  it("parses each instruction's original line, written out alone, to the same instruction", () => {
    fc.assert(
      fc.property(dockerfile, (text) => {
        const first = parse(text);
        if (!first.ok) return;
        const prefix = text.includes('# escape=`') && parseDockerfile(text, { file: 'Dockerfile' }).escapeToken === '`' ? '# escape=`\n' : '';
        for (const child of first.ast.children) {
          // A heredoc's body is not in its line; a lone continuation at the end of the file makes an empty instruction
          // (as in BuildKit), and a line joined up to the end of the file may itself end in one: neither can be written alone.
          if (child.heredocs.length > 0 || child.original.trim() === '' || /[\\`][ \t]*$/.test(child.original)) continue;
          const again = parse(prefix + child.original);
          expect(again.ok).toBe(true);
          if (again.ok) expect(again.ast.children.map(argsOf)).toEqual([argsOf(child)]);
        }
      }),
      fuzzParams(400),
    );
  }, fuzzTimeout(60_000));
});
