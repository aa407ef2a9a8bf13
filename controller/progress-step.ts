import { digestOf } from '../base/digest.js';
import type { ProgressSink } from '../base/progress.js';

/**
 * reportStep runs one phase that is not a vertex of the graph (export, cache transfer) and reports it like one.
 * `fn` gets the step's progress id, for the downloads and other status it reports.
 */
export async function reportStep<T>(progress: ProgressSink, name: string, fn: (vertex: string) => Promise<T>): Promise<T> {
  const vertex = digestOf(`step ${name}`);
  const started = Date.now();
  progress.emit({ type: 'vertex.started', vertex, name, time: started });
  try {
    const out = await fn(vertex);
    progress.emit({ type: 'vertex.completed', vertex, name, time: Date.now(), durationMs: Date.now() - started });
    return out;
  } catch (err) {
    progress.emit({ type: 'vertex.completed', vertex, name, time: Date.now(), durationMs: Date.now() - started, error: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}
