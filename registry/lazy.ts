/**
 * The registry client and what else talks to a registry or writes credentials: the folder's second entry, which code
 * outside registry/ loads only with `import()`, where it first talks to a registry. A build whose steps are all cached
 * and whose base is in the store, its tag fresh, never loads it (test/integration/start-cost.test.ts).
 */
export { createRegistryClient } from './client.js';
export { addTagReferrers, listReferrers } from './referrers-tag.js';
export { removeLogin, saveLogin } from './docker-config-write.js';
export { verifyLogin } from './login.js';
export { loadUndici } from './undici.js';
export { loadDockerCredentials } from './credentials.js';
