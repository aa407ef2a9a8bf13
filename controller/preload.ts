/**
 * preloadBuildCode loads the parts of a build that otherwise load on first use: the executor (the first RUN step) and
 * the registry client's HTTP stack (the first pull or push). A long-lived process calls it once it is ready, so that the
 * first build it serves does not wait for them; a build started directly skips them when every step is cached.
 */
export async function preloadBuildCode(): Promise<void> {
  await Promise.all([import('../executor/index.js'), import('../registry/lazy.js').then((m) => m.loadUndici())]);
}
