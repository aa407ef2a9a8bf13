import type { Environment } from '../command-io.js';

/** ViewOptions are what a progress view reads besides its output: the environment (NO_COLOR…) and --debug. */
export interface ViewOptions {
  readonly env: Environment;
  /** --debug: the warning summary shows each warning's detail. */
  readonly debug: boolean;
  /** The Dockerfiles of the build by name, which rawjson warnings carry as their source. */
  readonly sources?: ReadonlyMap<string, string>;
}

/** Palette names the colours the progress views use; each is an SGR code, or '' when colour is off. */
export interface Palette {
  /** Finished vertices (BuildKit's "run" colour). */
  readonly done: string;
  readonly cached: string;
  readonly error: string;
  readonly warning: string;
  readonly cancelled: string;
  /** Output lines of running vertices. */
  readonly log: string;
}

const COLOURS: Palette = { done: '34', cached: '2', error: '31', warning: '33', cancelled: '33', log: '2' };
const PLAIN: Palette = { done: '', cached: '', error: '', warning: '', cancelled: '', log: '' };

/**
 * paletteFor picks the colours of a progress view: none when NO_COLOR is set to anything but '' (no-color.org, as
 * BuildKit reads it) or when the output is not a terminal.
 */
export function paletteFor(env: Environment, isTTY: boolean): Palette {
  const noColor = env['NO_COLOR'];
  return isTTY && (noColor === undefined || noColor === '') ? COLOURS : PLAIN;
}

/** paint wraps text in an SGR colour, or returns it as is when the colour is ''. */
export function paint(text: string, colour: string): string {
  return colour === '' ? text : `\x1b[${colour}m${text}\x1b[0m`;
}

// CSI and OSC sequences, and other control characters but tab, that a command may write.
// oxlint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * printable makes one line of a command's output safe to draw in a fixed cell: what a carriage return overwrote is
 * dropped (progress bars), escape sequences and control characters are removed and tabs become spaces.
 */
export function printable(line: string): string {
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  const cr = trimmed.lastIndexOf('\r');
  return (cr === -1 ? trimmed : trimmed.slice(cr + 1)).replace(CONTROL, '').replace(/\t/g, '    ');
}

/** cellWidth is how many terminal columns a code point takes: 2 for East Asian wide and emoji, 0 for combining marks. */
function cellWidth(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/** textWidth is how many terminal columns printable text takes. */
export function textWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += cellWidth(ch.codePointAt(0) ?? 0);
  return w;
}

/** fitWidth cuts printable text to at most `width` columns, never splitting a wide character. */
export function fitWidth(text: string, width: number): string {
  let w = 0;
  let out = '';
  for (const ch of text) {
    const c = cellWidth(ch.codePointAt(0) ?? 0);
    if (w + c > width) break;
    w += c;
    out += ch;
  }
  return out;
}

/** formatSeconds renders a duration as BuildKit's views do (`4.2s`). */
export function formatSeconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}
