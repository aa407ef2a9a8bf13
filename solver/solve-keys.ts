import type { Digest } from '../base/digest.js';
import { cacheFields, type CacheFields } from './cache-fields.js';
import { computeRerunKey, keyFromFields, type ComputedKey, type KeyInput } from './cache-key.js';
import type { CacheKeyStorage } from './cache-key-storage.js';
import { contentSelectors } from './content-selectors.js';
import type { Edge, Vertex } from './graph/index.js';
import type { JobContext, OpRunner } from './types.js';

/** KeyBasis is what a vertex's keys hash: its cache fields and its inputs as one kind of key sees them. */
interface KeyBasis {
  readonly fields: CacheFields;
  readonly inputs: readonly KeyInput[];
  /** The keys computed of it so far, by output index. */
  readonly keys: Map<number, Promise<Digest>>;
}

/** KeySolve is what the keys of a solve need of it. */
export interface KeySolve<R> {
  readonly runner: OpRunner<R>;
  readonly job: JobContext;
  readonly storage: Pick<CacheKeyStorage, 'recordPreimage'>;
  /** result makes or finds a vertex's result. */
  result(v: Vertex): Promise<R>;
  /** wrap adds a vertex's name and location to a failure of its op. */
  wrap<T>(v: Vertex, fn: () => Promise<T>): Promise<T>;
  /** track ties work to the solve: its failure stops the solve. */
  track<T>(p: Promise<T>): Promise<T>;
}

/** SolvedKeys are the keys a solve gave a vertex: its key and, when it missed that and has one, its content key. */
export interface SolvedKeys {
  readonly vertex: Vertex;
  readonly key: Digest;
  readonly contentKey?: Digest;
}

/**
 * SolveKeys computes the cache keys of one solve with the key module (see cache-key.ts), recording each key's
 * preimage: a vertex's key, the keys below a vertex that ignores the cache, and keys by the files read of inputs.
 */
export class SolveKeys<R> {
  readonly #solve: KeySolve<R>;
  /** Each vertex's cache fields, its source pinned once. */
  readonly #fields = new Map<Digest, Promise<CacheFields>>();
  /** Each vertex's usual key basis: its inputs' usual keys. */
  readonly #bases = new Map<Digest, Promise<KeyBasis>>();
  /** Bases from the inputs' keys as this solve made them, for vertices below one that ignores the cache. */
  readonly #lookupBases = new Map<Digest, Promise<KeyBasis>>();
  /** The files a vertex that ignored the cache made, when they differ from its record's: its dependents key by them. */
  readonly #rerunContent = new Map<Digest, Digest>();
  readonly #belowRerun = new Map<Digest, boolean>();
  /** Content key bases of vertices that missed their key: their dependents' content keys take them. */
  readonly #contentBases = new Map<Digest, KeyBasis>();
  /** Preimages recorded by this solve, by key. */
  readonly #preimages = new Map<Digest, Promise<void>>();
  readonly #vertices = new Map<Digest, Vertex>();

  constructor(solve: KeySolve<R>) {
    this.#solve = solve;
  }

  /** key is a vertex's key: its cache fields and its inputs' keys, each for the output it takes. */
  async key(v: Vertex): Promise<Digest> {
    return this.#keyOf(await this.#basis(v));
  }

  /**
   * lookupKey is the key a vertex is looked up and recorded under: its key, except below a vertex that ignores the
   * cache, where it is made from the keys its inputs got in this solve. A vertex run again therefore hides its old
   * records from its dependents unless it made the same files, as BuildKit's dependents match only by content then.
   */
  async lookupKey(v: Vertex): Promise<Digest> {
    return this.#keyOf(await this.#lookupBasis(v));
  }

  /** rerunMade notes the files a vertex that ignored the cache made, when they differ from those of its record. */
  rerunMade(v: Vertex, content: Digest): void {
    this.#rerunContent.set(v.digest, content);
  }

  /**
   * contentKey is the key of a vertex by the files it reads (BuildKit's "slow" cache key), tried once its key missed:
   * the usual formula with the digest of the files read of an input in place of that input's key, and the content
   * key of any other input that has one, so the steps after one found by its files are found by them too. undefined
   * when it equals the key. An input's result is not loaded for it: one imported and not fetched keeps its key.
   */
  async contentKey(v: Vertex, key: Digest): Promise<Digest | undefined> {
    if (v.inputs.length === 0) return undefined;
    const inputs = await Promise.all(v.inputs.map((e, index) => this.#contentInput(v, e, index)));
    const usual = await Promise.all(v.inputs.map((e) => this.#outputKey(e)));
    if (inputs.every((input, i) => 'key' in input && input.key === usual[i])) return undefined;
    const basis: KeyBasis = { fields: await this.#fieldsOf(v), inputs, keys: new Map() };
    const byContent = await this.#keyOf(basis);
    if (byContent === key) return undefined;
    this.#contentBases.set(v.digest, basis);
    return byContent;
  }

  /** solved lists the keys of every vertex keyed (call it once the solve has settled). */
  async solved(): Promise<SolvedKeys[]> {
    await Promise.all(this.#preimages.values());
    const out: SolvedKeys[] = [];
    for (const [digest, vertex] of this.#vertices) {
      const basis = await this.#bases.get(digest);
      if (basis === undefined) continue;
      const key = await this.#keyOf(basis);
      const byContent = this.#contentBases.get(digest);
      out.push(byContent === undefined ? { vertex, key } : { vertex, key, contentKey: await this.#keyOf(byContent) });
    }
    return out;
  }

  /** The key of a basis for one output; each key's preimage is recorded once. */
  #keyOf(basis: KeyBasis, output = 0): Promise<Digest> {
    let p = basis.keys.get(output);
    if (p === undefined) {
      p = this.#recorded(keyFromFields(basis.fields, { output, inputs: basis.inputs }));
      basis.keys.set(output, p);
    }
    return p;
  }

  /**
   * A key is used as soon as it is computed; its preimage's write goes on meanwhile (a commit that waits for the disk,
   * once per new key): a failed write stops the solve, and the solve's end (solved) waits for every write.
   */
  #recorded(computed: ComputedKey): Promise<Digest> {
    if (!this.#preimages.has(computed.key)) this.#preimages.set(computed.key, this.#solve.track(this.#solve.storage.recordPreimage(computed.key, computed.preimage)));
    return Promise.resolve(computed.key);
  }

  /** A vertex's cache fields; a source is pinned first (the manifest a tag names now, a ref's commit, …). */
  #fieldsOf(v: Vertex): Promise<CacheFields> {
    let p = this.#fields.get(v.digest);
    if (p === undefined) {
      const { runner, job } = this.#solve;
      p = this.#solve.track(this.#solve.wrap(v, async () => cacheFields(v.op, v.op.kind === 'source' ? await runner.pin(v, job) : undefined)));
      this.#fields.set(v.digest, p);
    }
    return p;
  }

  #basis(v: Vertex): Promise<KeyBasis> {
    let p = this.#bases.get(v.digest);
    if (p === undefined) {
      this.#vertices.set(v.digest, v);
      p = this.#solve.track(this.#basisFrom(v, async (e) => this.#keyOf(await this.#basis(e.vertex), e.output)));
      this.#bases.set(v.digest, p);
    }
    return p;
  }

  async #basisFrom(v: Vertex, inputKey: (e: Edge) => Promise<Digest>): Promise<KeyBasis> {
    const [fields, inputs] = await Promise.all([this.#fieldsOf(v), Promise.all(v.inputs.map(async (e) => ({ key: await inputKey(e) })))]);
    return { fields, inputs, keys: new Map() };
  }

  /** Whether some vertex this one depends on ignores the cache, so its inputs may differ from their records. */
  #isBelowRerun(v: Vertex): boolean {
    let below = this.#belowRerun.get(v.digest);
    if (below === undefined) {
      below = v.inputs.some((e) => e.vertex.metadata.ignoreCache === true || this.#isBelowRerun(e.vertex));
      this.#belowRerun.set(v.digest, below);
    }
    return below;
  }

  #lookupBasis(v: Vertex): Promise<KeyBasis> {
    if (!this.#isBelowRerun(v)) return this.#basis(v);
    let p = this.#lookupBases.get(v.digest);
    if (p === undefined) {
      p = this.#solve.track(this.#basisFrom(v, (e) => this.#outputKey(e)));
      this.#lookupBases.set(v.digest, p);
    }
    return p;
  }

  /** The key dependents see for an input: for one that ignores the cache, known only once it has run. */
  async #outputKey(e: Edge): Promise<Digest> {
    const u = e.vertex;
    if (u.metadata.ignoreCache === true) await this.#solve.result(u);
    const key = await this.#keyOf(await this.#lookupBasis(u), e.output);
    const content = this.#rerunContent.get(u.digest);
    return content === undefined ? key : this.#recorded(computeRerunKey(key, content));
  }

  /** An input as a content key sees it: the files read of it (its selector), or its own content key, or its key. */
  async #contentInput(v: Vertex, e: Edge, index: number): Promise<KeyInput> {
    const { runner, job } = this.#solve;
    const selector = contentSelectors(v.op, index);
    if (selector !== undefined) {
      const input = { index, selector, result: () => this.#solve.result(e.vertex) };
      const content = await this.#solve.wrap(v, () => runner.selectedContentDigest(v, input, job));
      if (content !== undefined) return { content, selector };
    }
    // A content key of the input is known only once its result is: it missed its key then.
    await this.#solve.result(e.vertex);
    const byContent = this.#contentBases.get(e.vertex.digest);
    return { key: byContent === undefined ? await this.#outputKey(e) : await this.#keyOf(byContent, e.output) };
  }
}
