import type { TaskUpdate } from "./ports.ts";
import { type Button, isTerminal, TaskStatus } from "./task.ts";
import type { UpstreamTask } from "./upstream-port.ts";
import { explainUpstreamReason } from "./upstream-reasons.ts";

/** The jobs whose result is a 2×2 grid (novicezk's /submit/change takes these as its target). */
const GRID_ACTIONS = ["IMAGINE", "VARIATION", "REROLL", "BLEND"];

/**
 * The nine buttons of a grid (U1–U4, 🔄, V1–V4), for a host that sends none: novicezk's task
 * has no `buttons` (novicezk/midjourney-proxy, domain/Task.java); its U, V and reroll go
 * through /submit/change, which the client builds from these customIds.
 */
export function standardGridButtons(hash: string): Button[] {
  const button = (customId: string, label: string, emoji = ""): Button => ({
    customId,
    label,
    emoji,
    style: 2,
    type: 2,
  });
  return [
    ...[1, 2, 3, 4].map((n) => button(`MJ::JOB::upsample::${n}::${hash}`, `U${n}`)),
    button(`MJ::JOB::reroll::0::${hash}::SOLO`, "", "🔄"),
    ...[1, 2, 3, 4].map((n) => button(`MJ::JOB::variation::${n}::${hash}`, `V${n}`)),
  ];
}

const MP4 = /\.mp4(?:[?#]|$)/i;

/**
 * Pictures and video apart. trueai reports a video with the mp4 as `imageUrl` and the batch in
 * both `videoUrls` and `imageUrls` (trueai-org/midjourney-proxy, src/Midjourney.Base/Models/
 * TaskInfo.cs): an mp4 is never an image here, and the video is `videoUrl`, else the first of
 * `videoUrls`, else an mp4 `imageUrl`. The batch is `videoUrls`, else the mp4s of `imageUrls`.
 */
function mediaOf(upstream: UpstreamTask) {
  const isMp4 = (url: string | null) => url !== null && MP4.test(url);
  const videoUrls =
    upstream.videoUrls.length > 0 ? upstream.videoUrls : upstream.imageUrls.filter(isMp4);
  return {
    imageUrl: isMp4(upstream.imageUrl) ? null : upstream.imageUrl,
    imageUrls: upstream.imageUrls.filter((url) => !isMp4(url)),
    videoUrl:
      upstream.videoUrl ?? videoUrls[0] ?? (isMp4(upstream.imageUrl) ? upstream.imageUrl : null),
    videoUrls,
  };
}

function buttonsOf(upstream: UpstreamTask): Button[] {
  if (upstream.buttons.length > 0) return upstream.buttons;
  const action = upstream.action?.trim().toUpperCase() ?? "";
  if (!GRID_ACTIONS.includes(action)) return [];
  const hash = upstream.properties.messageHash;
  return standardGridButtons(typeof hash === "string" && hash ? hash : upstream.id);
}

/** A numbered item's marker at the start of a line: a keycap digit (1️⃣) or `1.` / `1)`. */
const ITEM_MARKER = /^[ \t]*(?:[1-9]\uFE0F?\u20E3[ \t]*|[1-9][.)][ \t]+)/gmu;

/**
 * The prompts in a describe or shorten result, in order: the numbered items of the text
 * (Midjourney numbers them 1️⃣ 2️⃣ …, one paragraph each). Shorten's text starts with an
 * "## Important tokens" section; only the items after "Shortened prompts" count. Text without
 * numbers gives one prompt per paragraph.
 */
export function parseNumberedPrompts(text: string): string[] {
  const heading = /shortened prompts/i.exec(text);
  const body = heading ? text.slice(heading.index + heading[0].length) : text;
  const starts = [...body.matchAll(ITEM_MARKER)];
  if (starts.length === 0) {
    // not numbered: one prompt per paragraph
    return body
      .split(/\n\s*\n/)
      .map((p) => p.replace(/\s+/g, " ").trim())
      .filter((p) => p.length > 0);
  }
  return starts
    .map((match, i) =>
      body
        .slice((match.index ?? 0) + match[0].length, starts[i + 1]?.index ?? body.length)
        .replace(/\s+/g, " ")
        .trim(),
    )
    .filter((prompt) => prompt.length > 0);
}

/** Only DESCRIBE and SHORTEN have text results; their text is `properties.finalPrompt` (or `prompt`). */
function promptsOf(upstream: UpstreamTask): string[] {
  const action = upstream.action?.trim().toUpperCase();
  if (action !== "DESCRIBE" && action !== "SHORTEN") return [];
  const finalPrompt = upstream.properties.finalPrompt;
  const text =
    typeof finalPrompt === "string" && finalPrompt.trim() ? finalPrompt : upstream.prompt;
  return text ? parseNumberedPrompts(text) : [];
}

/**
 * What an upstream task (webhook body or poll result) says about our task, as a TaskUpdate,
 * or null when its status is not one we know (it is then ignored, never guessed).
 */
export function updateFromUpstream(upstream: UpstreamTask, now: Date): TaskUpdate | null {
  const parsed = TaskStatus.safeParse(upstream.status.trim().toUpperCase());
  if (!parsed.success) return null;
  const status = parsed.data;
  const update: TaskUpdate = { status, upstreamTaskId: upstream.id };
  switch (status) {
    case "NOT_START":
    case "MODAL":
    case "SUBMITTED":
      update.progress = 0;
      break;
    case "IN_PROGRESS":
      update.progress = upstream.progress ?? 0;
      break;
    case "SUCCESS":
      break;
    default: {
      // the upstream's Chinese texts in English, its own words kept beside them
      const reason = upstream.failReason ? explainUpstreamReason(upstream.failReason) : null;
      update.failReason =
        reason?.failReason ??
        (status === "CANCEL"
          ? "cancelled upstream"
          : "the upstream reported FAILURE without a reason");
      update.upstreamFailReason = reason?.upstreamFailReason ?? null;
    }
  }
  if (isTerminal(status)) {
    // A terminal update defines every result field, so the final task is the same whatever
    // order the earlier webhooks arrived in (a preview image or a progress step never leaks).
    update.progress = 100;
    const media = mediaOf(upstream);
    update.imageUrl = media.imageUrl;
    update.imageUrls = media.imageUrls;
    update.videoUrl = media.videoUrl;
    update.videoUrls = media.videoUrls;
    update.prompts = status === "SUCCESS" ? promptsOf(upstream) : [];
    update.buttons = status === "SUCCESS" ? buttonsOf(upstream) : [];
    update.finishedAt = new Date(upstream.finishTime ?? now.getTime()).toISOString();
  } else {
    if (upstream.imageUrl) update.imageUrl = upstream.imageUrl;
    if (upstream.imageUrls.length > 0) update.imageUrls = upstream.imageUrls;
    if (upstream.videoUrl) update.videoUrl = upstream.videoUrl;
    if (upstream.videoUrls.length > 0) update.videoUrls = upstream.videoUrls;
  }
  return update;
}
