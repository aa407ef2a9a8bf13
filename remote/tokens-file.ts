import { ConfigError } from '../base/errors.js';

/** DEFAULT_TENANT names the clients no named token or certificate identifies: `--token`, or no authentication at all. */
export const DEFAULT_TENANT = 'default';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** checkTenantName refuses a tenant name that could not be a folder name or a log field as it is. */
export function checkTenantName(name: string, where: string): string {
  if (!NAME.test(name)) throw new ConfigError(`${where}: tenant name "${name}" must be 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  return name;
}

/** TokenEntry is one token of a tenant. */
export interface TokenEntry {
  readonly tenant: string;
  readonly token: string;
}

/**
 * parseTokensFile reads a tokens file: one `NAME TOKEN` pair a line (separated by spaces or tabs), blank lines and
 * lines starting with `#` ignored. A tenant may have several tokens (several lines); a token names one tenant only.
 */
export function parseTokensFile(text: string, file: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const owner = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `Cannot read tokens file "${file}" at line ${i + 1}`;
    const fields = line.split(/[ \t]+/);
    if (fields.length !== 2) throw new ConfigError(`${where}: expected NAME TOKEN, found ${fields.length} field${fields.length === 1 ? '' : 's'}`);
    const [name = '', token = ''] = fields;
    checkTenantName(name, where);
    const other = owner.get(token);
    if (other !== undefined && other !== name) throw new ConfigError(`${where}: the token of tenant "${name}" is also the token of tenant "${other}"`);
    owner.set(token, name);
    entries.push({ tenant: name, token });
  });
  return entries;
}
