import { describe, expect, it } from "vitest";
import * as admin from "../../functions/contract/admin.ts";
import * as errorBody from "../../functions/contract/error-body.ts";
import * as errors from "../../functions/contract/errors.ts";
import * as events from "../../functions/contract/events.ts";
import * as read from "../../functions/contract/read.ts";
import * as service from "../../functions/contract/service.ts";
import * as submit from "../../functions/contract/submit.ts";
import * as task from "../../functions/contract/task.ts";
import { Task, TaskEvent, TaskPage, TaskStatus } from "../../functions/contract/task.ts";
import * as uploads from "../../functions/contract/uploads.ts";
import * as webhooks from "../../functions/contract/webhooks.ts";
import * as z from "../../functions/contract/z.ts";
import * as upstream from "../../functions/upstream/schemas.ts";

type Json = Record<string, unknown>;
const isSchema = (value: unknown): value is z.ZodMiniType =>
  typeof value === "object" && value !== null && "_zod" in value;

/** Every stand-in found inside `schema`'s definition, by path: each costs a forwarding per parse. */
function standInsWithin(schema: z.ZodMiniType, path: string, seen = new Set<unknown>()): string[] {
  if (seen.has(schema)) return [];
  seen.add(schema);
  const def = schema._zod.def as unknown as Json;
  const found: string[] = [];
  const visit = (value: unknown, at: string) => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) visit(v, `${at}[${i}]`);
    } else if (isSchema(value)) {
      if (z.built(value) !== value) found.push(at);
      else found.push(...standInsWithin(value, at, seen));
    }
  };
  for (const key of [
    "shape",
    "element",
    "innerType",
    "in",
    "out",
    "options",
    "keyType",
    "valueType",
  ]) {
    const value = def[key];
    if (key === "shape" && value) {
      for (const [field, fieldSchema] of Object.entries(value as Json))
        visit(fieldSchema, `${path}.${field}`);
    } else visit(value, `${path}.${key}`);
  }
  return found;
}

/**
 * The contract's schemas are built on first use (z.onDemand, functions/contract/z.ts) so that a
 * cold start builds only what it parses. A schema built that way must behave exactly as the
 * schema itself everywhere the code and zod use it.
 */
describe("a schema built on demand", () => {
  it("is built on first use, once, and not before", () => {
    let builds = 0;
    const Point = z.onDemand(() => {
      builds++;
      return z.object({ x: z.number(), y: z.number() });
    });
    const Line = z.onDemand(() => z.object({ from: Point, to: Point }));
    expect(builds).toBe(0);
    expect(Line.safeParse({ from: { x: 0, y: 0 }, to: { x: 1, y: 2 } }).success).toBe(true);
    expect(Point.parse({ x: 3, y: 4 })).toEqual({ x: 3, y: 4 });
    expect(Object.keys(Point.shape)).toEqual(["x", "y"]);
    expect(builds).toBe(1);
  });

  it("gives the same errors, with paths through the schemas it is part of", () => {
    const result = TaskPage.safeParse({ items: [{ id: "x" }], nextCursor: null });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({
      path: ["items", 0, "owner"],
      message: "Invalid input: expected string, received undefined",
    });
    expect(TaskStatus.safeParse("DONE").error?.issues[0]?.message).toBe(
      'Invalid option: expected one of "NOT_START"|"SUBMITTED"|"MODAL"|"IN_PROGRESS"|"SUCCESS"|"FAILURE"|"CANCEL"',
    );
  });

  it("is one built schema wherever it is used: derived ones name it as their parent, the JSON Schema refers to it", () => {
    const data = TaskEvent.shape.data;
    expect(data._zod.parent).toBe(z.built(Task));
    expect(TaskPage.shape.items._zod.def.element).toBe(z.built(Task));
    expect(Task.check()._zod.parent).toBe(z.built(Task));
    expect(z.built(z.string())).toBeInstanceOf(z.ZodMiniString);
    const registry = z.registry<{ id: string }>();
    registry.add(z.built(Task), { id: "Task" });
    registry.add(z.built(TaskEvent), { id: "TaskEvent" });
    const { schemas } = z.toJSONSchema(registry, { uri: (id) => `#/${id}` });
    expect(schemas.TaskEvent?.properties?.data).toMatchObject({ $ref: "#/Task" });
    expect(z.toJSONSchema(TaskStatus)).toMatchObject({ type: "string", enum: TaskStatus.options });
  });

  it("is recognised as the kind of schema it builds", () => {
    expect(Task instanceof z.ZodMiniObject).toBe(true);
    expect(TaskStatus.type).toBe("enum");
    expect("~standard" in Task).toBe(true);
  });

  it("is composed into others as the built schema: no parse goes through a stand-in below the top", () => {
    const modules = {
      admin,
      errorBody,
      errors,
      events,
      read,
      service,
      submit,
      task,
      uploads,
      webhooks,
      upstream,
    };
    const found = Object.entries(modules).flatMap(([module, exports]) =>
      Object.entries(exports as Json).flatMap(([name, value]) =>
        isSchema(value) ? standInsWithin(z.built(value), `${module}.${name}`) : [],
      ),
    );
    expect(found).toEqual([]);
  });
});
