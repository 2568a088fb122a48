import { describe, expect, it } from "vitest";
import {
  ImageKind,
  ImagesStatus,
  Task,
  TaskAction,
  TaskEventType,
  TaskMode,
  TaskStatus,
} from "../../functions/core/task.ts";
import { plainTask } from "../../functions/store/plain-task.ts";
import { repairTaskItem, taskToItem } from "../../functions/store/task-store.ts";

/**
 * plainTask is the read path's check of a stored task without zod: it must answer exactly what
 * the Task schema answers for every candidate it accepts (same fields, same order, same values),
 * and accept nothing the schema refuses. Every field of the schema's shape (so a field added to
 * the schema and not to plainTask fails here), and every field of a button and of an image, is
 * set to each value below in turn.
 */
const button = { customId: "MJ::JOB::upsample::1::a", label: "U1", emoji: "", style: 2, type: 2 };
const image = {
  kind: "grid",
  name: "grid.png",
  index: null,
  url: null,
  width: 1024,
  height: 1024,
  contentType: "image/png",
  bytes: 12345,
  source: "https://cdn.example/grid.png",
};

const full: Record<string, unknown> = {
  id: "01KB7Y6G4Q9W8XJ3M2N5P6R7S8",
  owner: "alice",
  action: "IMAGINE",
  status: "SUCCESS",
  progress: 100,
  prompt: "a paper boat",
  upstreamTaskId: "1700000000000001",
  parentId: null,
  imageUrl: "https://cdn.example/grid.png",
  imageUrls: ["https://cdn.example/1.png", "https://cdn.example/2.png"],
  videoUrl: null,
  videoUrls: [],
  prompts: [],
  buttons: [button, { ...button, label: "U2", customId: "MJ::JOB::upsample::2::a" }],
  failReason: null,
  upstreamFailReason: null,
  metadata: { order: 7, nested: { a: [1, 2] } },
  createdAt: "2026-11-25T10:00:00.000Z",
  updatedAt: "2026-11-25T10:01:00.000Z",
  finishedAt: "2026-11-25T10:01:00.000Z",
  images: [image, { ...image, kind: "quadrant", name: "quadrant-1.png", index: 1, source: null }],
  imagesStatus: "done",
  imagesError: null,
  webhookUrl: "https://hooks.example/x",
  webhookEvents: ["task.succeeded"],
  upstreamImageUrl: "https://cdn.example/grid.png",
  upstreamImageUrls: [],
  upstreamVideoUrl: null,
  upstreamVideoUrls: [],
  mode: "fast",
  upstream: "primary",
  // attributes of the item the task does not show
  pk: "TASK#01KB7Y6G4Q9W8XJ3M2N5P6R7S8",
  rank: 3100,
};
/** An item stored before the later fields existed: their defaults fill in. */
const older = Object.fromEntries(
  Object.entries(full).filter(
    ([key]) =>
      ![
        "videoUrls",
        "prompts",
        "upstreamFailReason",
        "images",
        "imagesStatus",
        "imagesError",
        "webhookUrl",
        "webhookEvents",
        "upstreamImageUrl",
        "upstreamImageUrls",
        "upstreamVideoUrl",
        "upstreamVideoUrls",
        "mode",
        "upstream",
      ].includes(key),
  ),
);

const sparse: unknown[] = [];
sparse[1] = "x";
const withProto = JSON.parse('{"__proto__": {"a": 1}, "b": 2}');
const VALUES: unknown[] = [
  undefined,
  null,
  "",
  "x",
  0,
  -0,
  1,
  -1,
  2,
  0.5,
  100,
  101,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  true,
  [],
  ["a"],
  [1],
  [null],
  sparse,
  {},
  { a: 1 },
  withProto,
  Object.create(null),
  new Date(0),
  button,
  { ...button, extra: 1 },
  { ...button, style: 1.5 },
  [button],
  [{ ...button, extra: 1 }],
  [{ ...button, emoji: null }],
  [image],
  [{ ...image, index: 0 }],
  [{ ...image, width: 0 }],
  [{ ...image, bytes: -1 }],
  [{ ...image, kind: "poster" }],
  [{ ...image, url: undefined }],
  ...TaskStatus.options,
  ...TaskAction.options,
  ...TaskMode.options,
  ...ImageKind.options,
  ...ImagesStatus.options,
  ...TaskEventType.options,
  [...TaskEventType.options],
  ["task.unknown"],
  "NOT_A_VALUE",
];

/** A value as a failure names it. */
const show = (value: unknown) => {
  if (typeof value === "number" || value === undefined) return String(value);
  return JSON.stringify(value) ?? typeof value;
};

function variant(base: Record<string, unknown>, key: string, value: unknown) {
  const candidate = { ...base };
  if (value === undefined) delete candidate[key];
  else candidate[key] = value;
  return candidate;
}

/** plainTask agrees with the schema on this candidate (or leaves it to the schema). */
function expectSameAsSchema(candidate: Record<string, unknown>, label: string) {
  const schema = Task.safeParse(candidate);
  const plain = plainTask(candidate);
  if (plain === null) return false;
  expect(schema.success, `${label}: accepted what the schema refuses`).toBe(true);
  expect(plain, label).toStrictEqual(schema.data);
  // the same order of fields: what the API's JSON shows
  expect(JSON.stringify(plain), label).toBe(JSON.stringify(schema.data));
  return true;
}

describe("plainTask, the read path's check of a stored task", () => {
  it("answers the schema's own task for well-formed items, new and old", () => {
    for (const base of [full, older]) {
      expect(plainTask(base)).not.toBeNull();
      expectSameAsSchema(base, "base");
    }
  });

  it("covers every field of the schema: each set to every kind of value agrees with it", () => {
    const keys = [...Object.keys(Task.shape), "unknownAttribute"];
    expect(keys.length).toBeGreaterThan(30);
    let accepted = 0;
    for (const base of [full, older]) {
      for (const key of keys) {
        for (const value of VALUES) {
          if (expectSameAsSchema(variant(base, key, value), `${key} = ${show(value)}`)) {
            accepted++;
          }
        }
      }
    }
    // it takes the ordinary ones itself (else the read path would pay for zod after all)
    expect(accepted).toBeGreaterThan(100);
  });

  it("agrees with the schema on every field of a button and of an image", () => {
    for (const [list, entry] of [
      ["buttons", button],
      ["images", image],
    ] as const) {
      for (const key of [...Object.keys(entry), "extra"]) {
        for (const value of VALUES) {
          const element = variant(entry, key, value);
          expectSameAsSchema({ ...full, [list]: [element] }, `${list}[0].${key} = ${show(value)}`);
        }
      }
    }
  });

  it("leaves repairs to the schema: a bad field still falls back alone and is named", () => {
    const item = { ...taskToItem(Task.parse(full)), progress: "57%" };
    const { task, badFields } = repairTaskItem(item);
    expect(badFields).toEqual(["progress"]);
    expect(task?.progress).toBe(0);
    expect(task?.id).toBe(full.id);
  });
});
