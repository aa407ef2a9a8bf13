import { splitCsvRecord } from '../../base/csv.js';
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
 * BuildKit reads it) or when the output is not a terminal, else BuildKit's, with those BUILDKIT_COLORS sets.
 */
export function paletteFor(env: Environment, isTTY: boolean): Palette {
  const noColor = env['NO_COLOR'];
  if (!isTTY || (noColor !== undefined && noColor !== '')) return PLAIN;
  return { ...COLOURS, ...userColours(env['BUILDKIT_COLORS'] ?? '').colours };
}

/** The colours BUILDKIT_COLORS may name, as SGR codes (BuildKit's termColorMap). */
const NAMED_COLOURS: Readonly<Record<string, string>> = {
  default: '39', black: '30', red: '31', green: '32', yellow: '33', blue: '34', magenta: '35', cyan: '36', white: '37',
  'light-black': '90', 'light-red': '91', 'light-green': '92', 'light-yellow': '93', 'light-blue': '94',
  'light-magenta': '95', 'light-cyan': '96', 'light-white': '97',
};

/** The keys of BUILDKIT_COLORS and the colour of the palette each sets. */
const COLOUR_KEYS: Readonly<Record<string, keyof Palette>> = { run: 'done', cancel: 'cancelled', error: 'error', warning: 'warning' };

/** rgbColour is the 256-colour SGR code nearest an `R,G,B` value (as BuildKit's aec.NewRGB8Bit), or a problem. */
function rgbColour(value: string): string | { problem: string } {
  const parts = value.split(',');
  if (parts.length !== 3) return { problem: `"${value}" is not a valid RGB colour: it must have three fields` };
  const numbers = parts.map((p) => (/^[+-]?\d+$/.test(p.trim()) ? Number(p.trim()) : Number.NaN));
  if (numbers.some((n) => !Number.isInteger(n))) return { problem: `an RGB value that is not an integer: ${value}` };
  if (numbers.some((n) => n < 0 || n > 255)) return { problem: `an RGB value that is not within the valid range of 0-255: ${value}` };
  const [r = 0, g = 0, b = 0] = numbers.map((n) => Math.floor(n / 43));
  return `38;5;${16 + 36 * r + 6 * g + b}`;
}

/**
 * userColours reads BUILDKIT_COLORS as BuildKit does (`run=green:cancel=light-yellow:error=255,0,0:warning=yellow`, a
 * name of its list or an RGB value per key): the colours it sets and, for each part it cannot use, a problem to warn
 * of; those parts are left out, the others still apply.
 */
export function userColours(text: string): { colours: Partial<Record<keyof Palette, string>>; problems: string[] } {
  const colours: Partial<Record<keyof Palette, string>> = {};
  const problems: string[] = [];
  if (text === '') return { colours, problems };
  for (const field of splitCsvRecord(text, ':')) {
    const eq = field.indexOf('=');
    const key = field.slice(0, eq).toLowerCase();
    const value = field.slice(eq + 1);
    if (eq < 0 || value.includes('=')) {
      problems.push(`cannot read BUILDKIT_COLORS component "${field}": it must be KEY=COLOUR`);
      continue;
    }
    const named = NAMED_COLOURS[value.toLowerCase()];
    const colour = named ?? (value.includes(',') ? rgbColour(value) : { problem: `unknown colour "${value}": expected a colour name (${Object.keys(NAMED_COLOURS).join(', ')}) or R,G,B` });
    if (typeof colour !== 'string') {
      problems.push(`BUILDKIT_COLORS ${key}=${value}: ${colour.problem}`);
      continue;
    }
    const target = COLOUR_KEYS[key];
    if (target === undefined) problems.push(`unknown key "${key}" in BUILDKIT_COLORS (expected: run, cancel, error, or warning)`);
    else colours[target] = colour;
  }
  return { colours, problems };
}

/** colourWarnings are the warning lines a progress view prints once for what it could not use of BUILDKIT_COLORS. */
export function colourWarnings(env: Environment): string {
  const noColor = env['NO_COLOR'];
  // As BuildKit, NO_COLOR wins and BUILDKIT_COLORS is then not read at all.
  if (noColor !== undefined && noColor !== '') return '';
  return userColours(env['BUILDKIT_COLORS'] ?? '').problems.map((p) => `WARNING: ${p}\n`).join('');
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
