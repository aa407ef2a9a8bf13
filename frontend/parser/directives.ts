import { DockerfileError } from '../../base/errors.js';

const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);
// Go's RE2 `\s` is [\t\n\f\r ]; JavaScript's `\s` is wider, so spell it out.
const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;

/** DirectiveState tracks parser directives (`# syntax=`, `# escape=`, `# check=`) at the top of a Dockerfile. */
export class DirectiveState {
  escapeToken = '\\';
  readonly values: Record<string, string> = {};
  private done = false;
  private continuation = /([^\\])\\[ \t]*$|^\\[ \t]*$/;

  /** lineContinuation matches an escape token that ends a line, unless the token itself is escaped. */
  get lineContinuation(): RegExp {
    return this.continuation;
  }

  /** observe looks at one line and tells whether it is a directive; directives are recognised only until the first line that is not one. */
  observe(line: string): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const m = DIRECTIVE_RE.exec(line.slice(1).replace(/^\p{White_Space}+/u, ''));
    const key = m?.[1]?.toLowerCase();
    const value = m?.[2];
    if (key === undefined || value === undefined || !VALID_DIRECTIVES.has(key)) {
      this.done = true;
      return false;
    }
    if (key in this.values) {
      throw new DockerfileError(`Cannot use more than one ${key} parser directive`, { code: 'DOCKERFILE_SYNTAX' });
    }
    this.values[key] = value;
    if (key === 'escape') this.setEscapeToken(value);
    return true;
  }

  private setEscapeToken(token: string): void {
    if (token !== '`' && token !== '\\') {
      throw new DockerfileError(`Cannot use escape token "${token}": it must be "\`" or "\\"`, {
        code: 'DOCKERFILE_SYNTAX',
      });
    }
    this.escapeToken = token;
    const t = token === '\\' ? '\\\\' : '`';
    this.continuation = new RegExp(`([^${t}])${t}[ \\t]*$|^${t}[ \\t]*$`);
  }
}
