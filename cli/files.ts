import { mkdir, readFile, writeFile } from "node:fs/promises";
import { extname, join } from "node:path";
import type { Task } from "../client/index.ts";
import { CliError, EXIT } from "./exit.ts";

const TYPES: [string, number[]][] = [
  ["image/png", [0x89, 0x50, 0x4e, 0x47]],
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/gif", [0x47, 0x49, 0x46, 0x38]],
  ["image/webp", [0x52, 0x49, 0x46, 0x46]],
];

const isUrl = (value: string) => /^https?:\/\//i.test(value);

/** A local image file → the data URI the API takes; an http(s) URL is passed as it is. */
export async function imageArgument(value: string): Promise<string> {
  if (isUrl(value) || value.startsWith("data:")) return value;
  let bytes: Buffer;
  try {
    bytes = await readFile(value);
  } catch {
    throw new CliError(EXIT.usage, "file_unreadable", `Cannot read the image file ${value}.`);
  }
  const type = TYPES.find(([, sig]) => sig.every((byte, i) => bytes[i] === byte))?.[0];
  if (!type) {
    throw new CliError(
      EXIT.usage,
      "not_an_image",
      `${value} is not a PNG, JPEG, GIF or WebP image.`,
    );
  }
  return `data:${type};base64,${bytes.toString("base64")}`;
}

const EXTENSIONS: Record<string, string> = {
  "image/png": ".png",
  "image/jpeg": ".jpg",
  "image/gif": ".gif",
  "image/webp": ".webp",
  "video/mp4": ".mp4",
};

/** Every result file of a task, with the name it is saved under: `<id>.png`, `<id>-2.png` ... */
export function resultUrls(task: Task): { url: string; name: string }[] {
  const urls = [
    ...(task.imageUrl ? [task.imageUrl] : []),
    ...task.imageUrls.filter((u) => u !== task.imageUrl),
    ...(task.videoUrl ? [task.videoUrl] : []),
  ];
  return urls.map((url, i) => ({ url, name: i === 0 ? task.id : `${task.id}-${i + 1}` }));
}

/**
 * Downloads the task's images (and video) into `dir`. The extension follows the answer's
 * content type, else the URL's. Once the service holds durable copies the task's URLs are
 * theirs; before that they are the upstream's, and one that cannot be fetched is upstream
 * trouble (exit 5): upstream image URLs expire.
 */
export async function saveResults(task: Task, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const saved: string[] = [];
  for (const { url, name } of resultUrls(task)) {
    let response: Response;
    try {
      response = await fetch(url);
    } catch (error) {
      throw new CliError(
        EXIT.unavailable,
        "download_failed",
        `Cannot download ${url}: ${(error as Error).message}.`,
      );
    }
    if (!response.ok) {
      throw new CliError(
        EXIT.unavailable,
        "download_failed",
        `Cannot download ${url}: it answered ${response.status} (the upstream's links expire; the service's copies replace them once made).`,
      );
    }
    const type = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    const ext = EXTENSIONS[type] ?? (extname(new URL(url).pathname) || ".bin");
    const file = join(dir, `${name}${ext}`);
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    saved.push(file);
  }
  return saved;
}
