import { UsageQuery } from "./read.ts";
import * as z from "./z.ts";

/** The operator's routes (docs/operating.md): owners' API keys and limits. */

/** An owner name: the same characters API_KEYS allows (functions/config.ts). */
export const OwnerName = /* @__PURE__ */ z.onDemand(() =>
  z
    .string()
    .check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: "expected 1 to 64 of A-Z a-z 0-9 _ . -" })),
);

/** A key's label for people: printable, no control characters. */
export const KeyName = /* @__PURE__ */ z.onDemand(() =>
  z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(100),
      z.regex(/^[^\p{Cc}]*$/u, { message: "must not contain control characters" }),
    ),
);

/** `key_` and the first 24 hex digits of the key's SHA-256 (functions/core/api-keys.ts keyIdOf). */
export const KeyId = /* @__PURE__ */ z.onDemand(() =>
  z.string().check(z.regex(/^key_[0-9a-f]{24}$/)),
);

/** A key as `GET /v1/admin/keys` lists it: never the key, never its hash. */
export const ApiKeyView = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    id: z.built(KeyId),
    owner: z.built(OwnerName),
    name: z.nullable(z.string()),
    createdAt: z.string(),
    lastUsedAt: z.nullable(z.string()),
  }),
);
export type ApiKeyView = z.infer<typeof ApiKeyView>;

/** `POST /v1/admin/keys`: whose key, and a label for people. */
export const CreateKeyBody = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    owner: z.built(OwnerName),
    name: z.optional(z.built(KeyName)),
  }),
);
export type CreateKeyBody = z.infer<typeof CreateKeyBody>;

/** The answer of `POST /v1/admin/keys`: the only time the key is shown. */
export const CreatedKey = /* @__PURE__ */ z.onDemand(() =>
  z.extend(z.omit(z.built(ApiKeyView), { lastUsedAt: true }), { key: z.string() }),
);
export type CreatedKey = z.infer<typeof CreatedKey>;

/** `GET /v1/admin/keys`. */
export const ApiKeyList = /* @__PURE__ */ z.onDemand(() =>
  z.object({ items: z.array(z.built(ApiKeyView)) }),
);
export type ApiKeyList = z.infer<typeof ApiKeyList>;

/** `GET /v1/admin/keys?owner=`: every owner's keys without it. */
export const KeyListQuery = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({ owner: z.optional(z.built(OwnerName)) }),
);

/** A limit: a whole number of tasks or jobs, 0 or more; null removes it (no limit). */
const Limit = /* @__PURE__ */ z.onDemand(() =>
  z.nullable(
    z
      .number({ message: "a limit is a whole number, 0 or more, or null for no limit" })
      .check(
        z.int({ message: "a limit is a whole number" }),
        z.minimum(0, { message: "a limit cannot be negative" }),
        z.maximum(1_000_000_000, { message: "a limit is at most 1000000000" }),
      ),
  ),
);

/** `PUT /v1/admin/owners/{owner}/limits`: a field left out keeps its limit. */
export const LimitsBody = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    concurrent: z
      .optional(z.built(Limit))
      .check(z.meta({ description: "tasks unfinished at once; null: no limit" })),
    perDay: z
      .optional(z.built(Limit))
      .check(z.meta({ description: "jobs started per UTC day; null: no limit" })),
  }),
);
export type LimitsBody = z.infer<typeof LimitsBody>;

/** The owner's limits as set. */
export const OwnerLimits = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({
    owner: z.string(),
    concurrent: z.nullable(z.number().check(z.int())),
    perDay: z.nullable(z.number().check(z.int())),
  }),
);
export type OwnerLimits = z.infer<typeof OwnerLimits>;

/** `GET /v1/admin/usage`: `GET /v1/usage`'s range, for one owner. */
export const AdminUsageQuery = /* @__PURE__ */ z.onDemand(() =>
  z.extend(z.built(UsageQuery), { owner: z.built(OwnerName) }),
);
