/**
 * zod, the small build: `zod/mini` (functional API, a fraction of classic zod's bytes and start
 * time) with English messages. Every schema of functions/ imports zod from here, so every
 * validation error reads the same as it did with classic zod (docs/api.md's `details`).
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

export * from "zod/mini";

/**
 * A schema built the first time it is used, then kept: `export const Task = z.onDemand(() =>
 * z.object({...}))` is used exactly like the schema itself (`Task.safeParse`, `Task.shape`,
 * `z.array(Task)`, `z.infer<typeof Task>`). Building a zod schema is the costly part of loading
 * the contract (docs/performance.md, cold start), and a function's cold path parses one or two
 * of the contract's ~100 schemas: the rest are never built in that container.
 *
 * The value is a stand-in that forwards every operation to the built schema, so it has one
 * identity wherever the contract refers to it (OpenAPI components and `$ref`s stay the same).
 * Each use carries a `@__PURE__` comment (esbuild does not carry the function's own marking across
 * files), so a bundle leaves out every schema it does not reference.
 */
/* @__NO_SIDE_EFFECTS__ */
export function onDemand<T extends object>(build: () => T): T {
  let built: T | undefined;
  const schema = (): T => {
    built ??= build();
    return built;
  };
  return new Proxy({} as T, {
    // the stand-in as receiver: zod binds a method to the schema it is read from, so a schema
    // derived from this one (`Task.check(...)`) names the stand-in as its parent
    get: (_, key, receiver) => Reflect.get(schema(), key, receiver),
    set: (_, key, value, receiver) => Reflect.set(schema(), key, value, receiver),
    has: (_, key) => Reflect.has(schema(), key),
    ownKeys: () => Reflect.ownKeys(schema()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(schema(), key);
      // the stand-in itself has no properties: one it reports must be configurable (a proxy's rule)
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(schema(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(schema(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  });
}
