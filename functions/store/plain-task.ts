import {
  ImageKind,
  ImagesStatus,
  type Task,
  TaskAction,
  TaskEventType,
  TaskMode,
  TaskStatus,
} from "../core/task.ts";

type Candidate = Record<string, unknown>;

/** Thrown inside {@link plainTask} at the first field that does not fit: the caller asks zod. */
const MISFIT = Symbol("misfit");

const str = (v: unknown): string => {
  if (typeof v !== "string") throw MISFIT;
  return v;
};
const nullableStr = (v: unknown): string | null => (v === null ? null : str(v));
/** A field added later: absent is null (the schema's `nullOr`). */
const nullOrStr = (v: unknown): string | null => (v === undefined ? null : nullableStr(v));
const int = (v: unknown): number => {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) throw MISFIT;
  return v;
};
/** Every element through `parse`, holes included (as zod's arrays read them). */
function each<T>(v: unknown, parse: (element: unknown) => T): T[] {
  if (!Array.isArray(v)) throw MISFIT;
  const out: T[] = [];
  for (let i = 0; i < v.length; i++) out.push(parse(v[i]));
  return out;
}
const strings = (v: unknown): string[] => each(v, str);
/** A list added later: absent is `[]` (the schema's `listOf`). */
const listOfStrings = (v: unknown): string[] => (v === undefined ? [] : strings(v));
const object = (v: unknown): Candidate => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw MISFIT;
  return v as Candidate;
};

let enums:
  | {
      action: ReadonlySet<unknown>;
      status: ReadonlySet<unknown>;
      mode: ReadonlySet<unknown>;
      kind: ReadonlySet<unknown>;
      imagesStatus: ReadonlySet<unknown>;
      eventType: ReadonlySet<unknown>;
    }
  | undefined;
/** The contract's own enums' values (small schemas, built once), never a copy of them. */
const enumsOf = () => {
  enums ??= {
    action: new Set(TaskAction.options),
    status: new Set(TaskStatus.options),
    mode: new Set(TaskMode.options),
    kind: new Set(ImageKind.options),
    imagesStatus: new Set(ImagesStatus.options),
    eventType: new Set(TaskEventType.options),
  };
  return enums;
};
const member = <T>(values: ReadonlySet<unknown>, v: unknown): T => {
  if (!values.has(v)) throw MISFIT;
  return v as T;
};

const button = (v: unknown) => {
  const b = object(v);
  return {
    customId: str(b.customId),
    label: str(b.label),
    emoji: str(b.emoji),
    style: int(b.style),
    type: int(b.type),
  };
};

const image = (v: unknown, kinds: ReadonlySet<unknown>) => {
  const i = object(v);
  const positive = (n: unknown) => {
    if (n === null) return null;
    if (int(n) <= 0) throw MISFIT;
    return n as number;
  };
  const index = i.index === null ? null : int(i.index);
  if (index !== null && index < 1) throw MISFIT;
  const bytes = int(i.bytes);
  if (bytes < 0) throw MISFIT;
  return {
    kind: member<Task["images"][number]["kind"]>(kinds, i.kind),
    name: str(i.name),
    index,
    url: nullOrStr(i.url),
    width: positive(i.width),
    height: positive(i.height),
    contentType: str(i.contentType),
    bytes,
    source: nullableStr(i.source),
  };
};

/** metadata as the schema's record copies it: own keys, `__proto__` left to zod */
const metadata = (v: unknown): Record<string, unknown> => {
  if (
    typeof v !== "object" ||
    v === null ||
    Object.getPrototypeOf(v) !== Object.prototype ||
    Object.hasOwn(v, "__proto__")
  ) {
    throw MISFIT;
  }
  return { ...(v as Candidate) };
};

/**
 * The task a stored item's candidate is, when every field is as the Task schema
 * (functions/contract/task.ts) wants it: exactly what `Task.parse(candidate)` answers (the same
 * fields in the same order, defaults filled, unknown attributes left out); null for anything
 * else, which the caller then hands to zod for its repair and its details. What every read of a
 * well-formed task takes: zod builds the Task schema, its largest, and runs its parser once per
 * container otherwise, ~4-5 ms of a task read's cold start (profiled).
 * test/store/plain-task.test.ts holds it to the schema, field by field.
 */
export function plainTask(c: Candidate): Task | null {
  try {
    const e = enumsOf();
    const progress = int(c.progress);
    if (progress < 0 || progress > 100) throw MISFIT;
    return {
      id: str(c.id),
      owner: str(c.owner),
      action: member<Task["action"]>(e.action, c.action),
      status: member<Task["status"]>(e.status, c.status),
      progress,
      prompt: nullableStr(c.prompt),
      upstreamTaskId: nullableStr(c.upstreamTaskId),
      parentId: nullableStr(c.parentId),
      imageUrl: nullableStr(c.imageUrl),
      imageUrls: strings(c.imageUrls),
      videoUrl: nullableStr(c.videoUrl),
      videoUrls: listOfStrings(c.videoUrls),
      prompts: listOfStrings(c.prompts),
      buttons: each(c.buttons, button),
      failReason: nullableStr(c.failReason),
      upstreamFailReason: nullOrStr(c.upstreamFailReason),
      metadata: metadata(c.metadata),
      createdAt: str(c.createdAt),
      updatedAt: str(c.updatedAt),
      finishedAt: nullableStr(c.finishedAt),
      images: c.images === undefined ? [] : each(c.images, (i) => image(i, e.kind)),
      imagesStatus:
        c.imagesStatus === undefined || c.imagesStatus === null
          ? null
          : member<NonNullable<Task["imagesStatus"]>>(e.imagesStatus, c.imagesStatus),
      imagesError: nullOrStr(c.imagesError),
      webhookUrl: nullOrStr(c.webhookUrl),
      webhookEvents:
        c.webhookEvents === undefined
          ? []
          : each(c.webhookEvents, (t) => member<Task["webhookEvents"][number]>(e.eventType, t)),
      upstreamImageUrl: nullOrStr(c.upstreamImageUrl),
      upstreamImageUrls: listOfStrings(c.upstreamImageUrls),
      upstreamVideoUrl: nullOrStr(c.upstreamVideoUrl),
      upstreamVideoUrls: listOfStrings(c.upstreamVideoUrls),
      mode:
        c.mode === undefined || c.mode === null
          ? null
          : member<NonNullable<Task["mode"]>>(e.mode, c.mode),
      upstream: nullOrStr(c.upstream),
    };
  } catch (error) {
    if (error === MISFIT) return null;
    throw error;
  }
}
