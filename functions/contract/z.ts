/**
 * zod, the small build: `zod/mini` (functional API, a fraction of classic zod's bytes and start
 * time) with English messages. Every schema of functions/ imports zod from here, so every
 * validation error reads the same as it did with classic zod (docs/api.md's `details`).
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

export * from "zod/mini";

const BUILT = Symbol("the built schema");

/**
 * A schema built the first time it is used, then kept: `export const Task = z.onDemand(() =>
 * z.object({...}))` is used exactly like the schema itself (`Task.safeParse`, `Task.shape`,
 * `z.array(Task)`, `z.infer<typeof Task>`). Building a zod schema is the costly part of loading
 * the contract (docs/performance.md, cold start), and a function's cold path parses one or two
 * of the contract's ~100 schemas: the rest are never built in that container.
 *
 * The value is a stand-in that forwards every operation to the built schema. Forwarding costs a
 * little on every use, so a schema built from others takes them through {@link built} (`z.array(
 * z.built(Task))`): a parse then runs on built schemas only, the stand-in's cost paid once per
 * call at the top.
 *
 * Each use carries a `@__PURE__` comment (esbuild does not carry the function's own marking across
 * files), so a bundle leaves out every schema it does not reference.
 */
/* @__NO_SIDE_EFFECTS__ */
export function onDemand<T extends object>(build: () => T): T {
  let done: T | undefined;
  const schema = (): T => {
    done ??= build();
    return done;
  };
  return new Proxy({} as T, {
    // the built schema itself (built), or what the stand-in forwards to it; methods zod binds
    // on first read are bound to the built schema, so a derived one (`Task.check(...)`) names it
    get: (_, key) => (key === BUILT ? schema() : Reflect.get(schema(), key)),
    set: (_, key, value) => Reflect.set(schema(), key, value),
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

/**
 * The schema an {@link onDemand} stand-in builds (building it now if it is not yet), or `schema`
 * itself when it is no stand-in. What a schema built from others composes, and what the OpenAPI
 * document registers, so that both refer to the one built schema.
 */
export function built<T>(schema: T): T {
  return ((schema as { [BUILT]?: T })[BUILT] ?? schema) as T;
}
