import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_TENANT } from '../base/build-record.js';
import type { Logger } from '../base/log.js';
import type { Controller } from '../controller/index.js';

/** TenantStore is where one tenant's builds go: a controller (its store, cache and history) and its context copies. */
export interface TenantStore {
  readonly controller: Controller;
  readonly contextsDir: string;
  /**
   * The tenant whose cache is its own, when it is (a named tenant without share-cache): the server's shared registry
   * cache (`[cache]`) keys its projects with it too, so that no tenant imports what another exported.
   */
  readonly cacheScope?: string;
}

/** tenantProjectKey is a project's shared cache key as one tenant's own: the same project of two tenants gets two. */
export function tenantProjectKey(project: string, cacheScope: string | undefined): string {
  return cacheScope === undefined ? project : createHash('sha256').update(`${cacheScope}\n${project}`).digest('hex');
}

/** TenantStoresOptions say whether tenants share the server's store and how a tenant's own is opened. */
export interface TenantStoresOptions {
  /** The server's own store: the default tenant's, and every tenant's when the cache is shared. */
  readonly main: TenantStore;
  /** `[serve] share-cache = true`: one store (cache, images, history) for every tenant. */
  readonly shared: boolean;
  /** Opens a controller on the state folder of a named tenant (created when missing). */
  readonly open: (root: string) => Promise<Controller>;
  readonly logger: Logger;
}

/**
 * TenantStores keeps each named tenant's builds in a store of its own under the server's root (`tenants/NAME`)
 * unless the settings share the cache: then a tenant never finds another's cache records, snapshots, cache mounts,
 * images or base image resolutions, and du and prune see its own store only. The default tenant keeps the root's
 * store, so a server without named tenants finds its cache where it was. Stores open on a tenant's first call.
 */
export class TenantStores {
  readonly #o: TenantStoresOptions;
  readonly #opened = new Map<string, Promise<TenantStore>>();

  constructor(o: TenantStoresOptions) {
    this.#o = o;
  }

  /** of is the store of a tenant's calls. */
  of(tenant: string): Promise<TenantStore> {
    if (this.#o.shared || tenant === DEFAULT_TENANT) return Promise.resolve(this.#o.main);
    let store = this.#opened.get(tenant);
    if (store === undefined) {
      const root = join(this.#o.main.controller.info().root, 'tenants', tenant);
      store = this.#o.open(root).then((controller) => {
        this.#o.logger.info('tenant store opened', { tenant, root });
        return { controller, contextsDir: join(root, 'remote-contexts'), cacheScope: tenant };
      });
      // A store that failed to open is tried again on the tenant's next call.
      void store.catch(() => this.#opened.delete(tenant));
      this.#opened.set(tenant, store);
    }
    return store;
  }

  /** opened lists the controllers open now: the server's and each tenant's that opened. */
  async opened(): Promise<Controller[]> {
    const tenants = await Promise.allSettled([...this.#opened.values()]);
    return [this.#o.main.controller, ...tenants.flatMap((s) => (s.status === 'fulfilled' ? [s.value.controller] : []))];
  }

  /** close waits for each tenant's builds to end and closes its store (the server's own store is its owner's to close). */
  async close(): Promise<void> {
    const [, ...tenants] = await this.opened();
    await Promise.all(tenants.map((c) => c.close()));
  }
}
