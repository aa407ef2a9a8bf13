import { describe, expect, it } from 'vitest';
import { chompHeredocContent, dumpAst, parseDockerfile } from '../../../frontend/parser/index.js';

const parse = (text: string): ReturnType<typeof parseDockerfile> => parseDockerfile(text, { file: 'Dockerfile' });

describe('heredocs', () => {
  it('reads one heredoc on RUN and keeps the line range', () => {
    const { ast } = parse('FROM busybox\nRUN <<EOF\necho hello\necho world\nEOF\nRUN true\n');
    const run = ast.children[1];
    expect(run?.heredocs).toEqual([{ name: 'EOF', content: 'echo hello\necho world\n', expand: true, chomp: false }]);
    expect([run?.startLine, run?.endLine]).toEqual([2, 5]);
    expect(ast.children[2]?.startLine).toBe(6);
  });

  it('reads several heredocs on one instruction in order', () => {
    const { ast } = parse('FROM busybox\nRUN <<A cat - <<B\nfirst\nA\nsecond\nB\n');
    expect(ast.children[1]?.heredocs.map((h) => [h.name, h.content])).toEqual([
      ['A', 'first\n'],
      ['B', 'second\n'],
    ]);
  });

  it('strips leading tabs from the terminator of <<- and from content on request', () => {
    const { ast } = parse('FROM busybox\nRUN <<-EOT\n\techo hi\n\t\tEOT\n');
    const doc = ast.children[1]?.heredocs[0];
    expect(doc?.chomp).toBe(true);
    expect(doc?.content).toBe('\techo hi\n');
    expect(chompHeredocContent(doc?.content ?? '')).toBe('echo hi\n');
  });

  it('turns expansion off for a quoted delimiter', () => {
    const { ast } = parse('FROM busybox\nRUN <<"EOF"\necho $HOME\nEOF\nRUN <<\'X\'y\n$A\nXy\n');
    expect(ast.children[1]?.heredocs[0]).toMatchObject({ name: 'EOF', expand: false });
    expect(ast.children[2]?.heredocs[0]).toMatchObject({ name: 'Xy', expand: false });
  });

  it('reads a heredoc in COPY with its destination', () => {
    const { ast } = parse('FROM busybox\nCOPY --chmod=644 <<EOF /app/conf\nkey=value\nEOF\n');
    const copy = ast.children[1];
    expect(copy?.flags).toEqual(['--chmod=644']);
    expect(copy?.heredocs[0]).toMatchObject({ name: 'EOF', content: 'key=value\n', expand: true });
    expect(dumpAst(ast)).toBe('(from "busybox")\n(copy ["--chmod=644"] "<<EOF" "/app/conf")');
  });

  it('ignores heredoc syntax in exec form and in other instructions', () => {
    const { ast } = parse('FROM busybox\nRUN ["cat", "<<EOF"]\nENV A=<<EOF\n');
    expect(ast.children[1]?.heredocs).toEqual([]);
    expect(ast.children[2]?.heredocs).toEqual([]);
  });

  it('reads a heredoc in an ONBUILD instruction', () => {
    const { ast } = parse('FROM busybox\nONBUILD RUN <<EOF\necho x\nEOF\n');
    expect(ast.children[1]?.heredocs[0]?.content).toBe('echo x\n');
  });

  it('rejects an unterminated heredoc with its location', () => {
    expect(() => parse('FROM busybox\nRUN <<EOF\necho\n')).toThrow(
      expect.objectContaining({ code: 'DOCKERFILE_SYNTAX', location: expect.objectContaining({ startLine: 2, endLine: 3 }) }),
    );
  });
});
