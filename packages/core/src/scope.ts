// tidy(): tensors created inside fn are disposed when it returns, except those it returns.
// The stack of open scopes is the one piece of module state in the core; it only tracks handles.
interface Disposable {
  dispose(): void;
}

const scopes: Set<Disposable>[] = [];

export function track(t: Disposable): void {
  const top = scopes[scopes.length - 1];
  if (top) top.add(t);
}

/** Keeps `t` alive past the innermost tidy scope. */
export function keep<T extends Disposable>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== "object" || depth > 8) return;
  out.add(value);
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value as Record<string, unknown>)) collect(v, out, depth + 1);
}

/**
 * Runs fn and disposes every tensor created inside it that is not part of its result (tensors
 * in returned arrays, Maps and plain objects are kept). fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  const finish = (result: unknown) => {
    scopes.splice(scopes.lastIndexOf(scope), 1);
    const kept = new Set<unknown>();
    collect(result, kept);
    const parent = scopes[scopes.length - 1];
    for (const t of scope) {
      if (kept.has(t)) parent?.add(t);
      else t.dispose();
    }
  };
  let result: T;
  try {
    result = fn();
  } catch (e) {
    finish(undefined);
    throw e;
  }
  if (result instanceof Promise) {
    finish(undefined);
    throw new Error("tidy() takes a synchronous function: tensors created across an await cannot be told apart");
  }
  finish(result);
  return result;
}
