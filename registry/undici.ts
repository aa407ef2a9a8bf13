/**
 * undici is about 1 MB of JavaScript and requires Node's TLS, HTTP/2, worker and performance modules as it loads. It is
 * loaded on the first request, not with the registry folder: a build whose steps are all cached never talks to a
 * registry, and code that only parses references or reads settings must not pay for it.
 */
type Undici = (typeof import('undici'))['default'];

let loaded: Promise<Undici> | undefined;

/** loadUndici loads undici once. Its CommonJS exports are the default export both in Node and in the bundle. */
export function loadUndici(): Promise<Undici> {
  return (loaded ??= import('undici').then((m) => m.default));
}
