// Asking a page's Web Worker to do one operation at a time: the booth makes and checks ballots in
// its worker, the trustee page keeps its secrets in its own. Each request carries an id; before
// its answer the worker may post any number of `{id, progress}` messages (how far a long step
// is), and it ends with `{id, ok: true, …}` or `{id, ok: false, error: {message, …}}`.

/**
 * A client of the module worker at `url` (started on first use): `work(op, args, onProgress)`
 * posts `{id, op, …args}` and resolves with the worker's answer, or rejects with an Error carrying
 * the answer's error fields. Each `{id, progress}` message the worker posts before the answer is
 * given to `onProgress(progress)` (dropped without one). Messages for no pending request are
 * ignored. If the worker itself fails, every pending request is rejected.
 */
export function workerClient(url) {
  let worker = null;
  let nextId = 0;
  const waiting = new Map();
  return function work(op, args = {}, onProgress = null) {
    if (worker === null) {
      worker = new Worker(url, { type: 'module' });
      worker.onmessage = ({ data }) => {
        const w = waiting.get(data?.id);
        if (w === undefined) return;
        if ('progress' in data && !('ok' in data)) {
          w.onProgress?.(data.progress);
          return;
        }
        waiting.delete(data.id);
        if (data.ok) w.resolve(data);
        else w.reject(Object.assign(new Error(data.error?.message ?? 'the worker failed'), data.error));
      };
      worker.onerror = (e) => {
        for (const w of waiting.values()) w.reject(new Error(e.message || 'the worker failed'));
        waiting.clear();
      };
    }
    const id = nextId++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject, onProgress: typeof onProgress === 'function' ? onProgress : null });
      worker.postMessage({ id, op, ...args });
    });
  };
}
