import { describeCacheKeyStorage } from '../../contracts/cache-key-storage.js';
import { MemoryCacheKeyStorage } from '../../fakes/memory-cache-key-storage.js';

describeCacheKeyStorage('in memory (the solver tests\' fake)', () =>
  Promise.resolve({ storage: new MemoryCacheKeyStorage(), [Symbol.asyncDispose]: () => Promise.resolve() }),
);
