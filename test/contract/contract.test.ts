import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import type * as client from "../../client/index.ts";
import { AdminUsageQuery, KeyListQuery } from "../../functions/contract/admin.ts";
import { ErrorCode, STATUS_BY_CODE } from "../../functions/contract/errors.ts";
import { ListQuery, UsageQuery } from "../../functions/contract/read.ts";
import type * as submit from "../../functions/contract/submit.ts";
import { TaskWithChildren } from "../../functions/contract/task.ts";
import type * as z from "../../functions/contract/z.ts";
import type { AppError } from "../../functions/core/errors.ts";
import type { ListQuery as CoreListQuery } from "../../functions/core/queries.ts";
import type { ImagineInput } from "../../functions/core/submit.ts";
import type * as workflow from "../../functions/core/workflow.ts";
import { COMPONENTS, OPENAPI_FILE, type RouteKey } from "../../functions/http/openapi.ts";

/**
 * One wire contract (functions/contract/): every request, answer and error code is written
 * there once, and each other place that shows a field (the committed OpenAPI document, the
 * docs' task and error tables, core's input types, the client's types) must show the same
 * fields. A field in one place and not the others fails here, naming it.
 */

const ROOT = join(import.meta.dirname, "..", "..");
type Json = Record<string, any>;
const doc = JSON.parse(readFileSync(join(ROOT, OPENAPI_FILE), "utf8")) as Json;
const apiMd = readFileSync(join(ROOT, "docs", "api.md"), "utf8");

/** Every field path of a zod schema (`images[].kind`), on the side the document describes. */
function zodFields(schema: z.ZodMiniType, io: "input" | "output", prefix = ""): string[] {
  const def = schema._zod.def as Json;
  switch (def.type) {
    case "object":
      return Object.entries(def.shape as Record<string, z.ZodMiniType>).flatMap(([key, field]) => [
        `${prefix}${key}`,
        ...zodFields(field, io, `${prefix}${key}.`),
      ]);
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
      return zodFields(def.innerType, io, prefix);
    case "pipe":
      // a transform has no shape: its input is what is described
      return zodFields(
        io === "input" || def.out._zod.def.type === "transform" ? def.in : def.out,
        io,
        prefix,
      );
    case "array":
      return zodFields(def.element, io, `${prefix.replace(/\.$/, "")}[].`);
    case "union":
      return (def.options as z.ZodMiniType[]).flatMap((o) => zodFields(o, io, prefix));
    default:
      return [];
  }
}

/** Every field path of a JSON Schema of the document, following `$ref`s. */
function jsonFields(schema: Json, prefix = "", seen = new Set<string>()): string[] {
  if (schema.$ref) {
    const name = String(schema.$ref).replace("#/components/schemas/", "");
    if (seen.has(name)) return [];
    return jsonFields(doc.components.schemas[name], prefix, new Set([...seen, name]));
  }
  const out: string[] = [];
  for (const [key, field] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
    out.push(`${prefix}${key}`, ...jsonFields(field, `${prefix}${key}.`, seen));
  }
  if (schema.items) out.push(...jsonFields(schema.items, `${prefix.replace(/\.$/, "")}[].`, seen));
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
    out.push(...jsonFields(branch, prefix, seen));
  return [...new Set(out)];
}

const sorted = (list: string[]) => [...new Set(list)].sort();

describe("the OpenAPI document shows exactly the contract's fields", () => {
  const cases = (["input", "output"] as const).flatMap((io) =>
    Object.entries(COMPONENTS[io]).map(([name, schema]) => ({ io, name, schema })),
  );

  it("describes every component it declares", () => {
    expect(sorted(Object.keys(doc.components.schemas))).toEqual(sorted(cases.map((c) => c.name)));
  });

  it.each(cases)("$name ($io side)", ({ io, name, schema }) => {
    const committed = doc.components.schemas[name] as Json;
    expect(sorted(jsonFields(committed))).toEqual(sorted(zodFields(schema, io)));
  });

  /** Routes whose query the handler validates with a contract schema. */
  const QUERIES: [RouteKey, z.ZodMiniObject][] = [
    ["GET /v1/tasks", ListQuery],
    ["GET /v1/usage", UsageQuery],
    ["GET /v1/admin/usage", AdminUsageQuery],
    ["GET /v1/admin/keys", KeyListQuery],
  ];

  it.each(QUERIES)("%s: its query parameters and which are required", (route, schema) => {
    const [method, path] = route.split(" ") as [string, string];
    const parameters = (doc.paths[path][method.toLowerCase()].parameters as Json[]).filter(
      (p) => p.in === "query",
    );
    const documented = Object.fromEntries(parameters.map((p) => [p.name, p.required]));
    const contract = Object.fromEntries(
      Object.entries(schema.shape).map(([name, field]) => [
        name,
        (field as z.ZodMiniType)._zod.def.type !== "optional",
      ]),
    );
    expect(documented).toEqual(contract);
  });
});

describe("error codes: one list", () => {
  it("the document's error enum is the contract's codes", () => {
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toEqual(
      ErrorCode.options,
    );
  });

  it("docs/api.md's error table has every code, with the status the API answers it with", () => {
    const section = apiMd.slice(apiMd.indexOf("## Errors"));
    const rows = [...section.matchAll(/^\|\s*(\d{3})\s*\|([^|]*)\|/gm)].flatMap(
      ([, status, cell]) =>
        [...(cell ?? "").matchAll(/`([a-z_]+)`/g)].map(([, code]) => [code, Number(status)]),
    );
    expect(Object.fromEntries(rows)).toEqual(STATUS_BY_CODE);
    expect(rows).toHaveLength(ErrorCode.options.length);
  });

  it("AppError's code and the client's ApiError code are the contract's union", () => {
    expectTypeOf<AppError["code"]>().toEqualTypeOf<ErrorCode>();
    expectTypeOf<client.ApiError["code"]>().toEqualTypeOf<ErrorCode>();
    expectTypeOf<client.ErrorDetail>().toEqualTypeOf<
      z.infer<typeof import("../../functions/contract/errors.ts").ErrorDetail>
    >();
  });
});

describe("the task: one shape", () => {
  it("docs/api.md's example task has exactly the fields of GET /v1/tasks/{id}", () => {
    const section = apiMd.slice(apiMd.indexOf("## The task"));
    const example = JSON.parse(/```json\n([\s\S]*?)\n```/.exec(section)?.[1] ?? "{}");
    expect(sorted(Object.keys(example))).toEqual(sorted(Object.keys(TaskWithChildren.shape)));
  });
});

describe("core's inputs and the client's types are the contract's", () => {
  it("core's use-cases take the validated bodies", () => {
    expectTypeOf<ImagineInput>().toEqualTypeOf<z.output<typeof submit.ImagineBody>>();
    expectTypeOf<workflow.ActionInput>().toEqualTypeOf<z.output<typeof submit.ActionBody>>();
    expectTypeOf<workflow.ModalInput>().toEqualTypeOf<z.output<typeof submit.ModalBody>>();
    expectTypeOf<workflow.VideoInput>().toEqualTypeOf<z.output<typeof submit.VideoBody>>();
    expectTypeOf<CoreListQuery["status"]>().toEqualTypeOf<z.output<typeof ListQuery>["status"]>();
  });

  it("the client's request types are the bodies' input side", () => {
    expectTypeOf<client.ImagineRequest>().toEqualTypeOf<z.input<typeof submit.ImagineBody>>();
    expectTypeOf<client.VideoRequest>().toEqualTypeOf<z.input<typeof submit.VideoBody>>();
    expectTypeOf<client.Task>().toEqualTypeOf<
      z.output<typeof import("../../functions/contract/task.ts").Task>
    >();
  });

  /** The module specifiers a TypeScript file imports or re-exports from. */
  const importsOf = (file: string) =>
    [
      ...readFileSync(file, "utf8").matchAll(
        /^(?:import|export)\s(?:[^;]*?\sfrom\s)?"([^"]+)";/gms,
      ),
    ].map(([, spec]) => spec ?? "");
  const tsFiles = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return tsFiles(path);
      return name.endsWith(".ts") ? [path] : [];
    });

  it("the client imports nothing of the server but the contract", () => {
    const outside = tsFiles(join(ROOT, "client")).flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith("../") && !spec.startsWith("../functions/contract/"))
        .map((spec) => `${relative(ROOT, file)}: ${spec}`),
    );
    expect(outside).toEqual([]);
  });

  it("every body limit the apps apply is the contract's", () => {
    const literal = tsFiles(join(ROOT, "functions", "http")).flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/limitBody\(([^)]*)\)/g)]
        .filter(
          ([, arg]) =>
            !/^BODY_LIMITS\["[A-Z]+ [^"]+"\]$/.test(arg ?? "") && arg !== "maxBytes: number",
        )
        .map(([call]) => `${relative(ROOT, file)}: ${call}`),
    );
    expect(literal).toEqual([]);
  });

  it("no function loads classic zod: every schema is built with zod/mini through the contract", () => {
    const classic = tsFiles(join(ROOT, "functions")).flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec === "zod" || (spec.startsWith("zod/") && spec !== "zod/mini"))
        .filter(() => !file.endsWith(join("contract", "z.ts")))
        .map((spec) => `${relative(ROOT, file)}: ${spec}`),
    );
    expect(classic).toEqual([]);
  });
});
