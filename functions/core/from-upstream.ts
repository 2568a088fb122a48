import type { UpstreamTask } from "../upstream/schemas.ts";
import type { TaskUpdate } from "./ports.ts";
import { isTerminal, TaskStatus } from "./task.ts";

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
    default:
      update.failReason =
        upstream.failReason ??
        (status === "CANCEL"
          ? "cancelled upstream"
          : "the upstream reported FAILURE without a reason");
  }
  if (isTerminal(status)) {
    // A terminal update defines every result field, so the final task is the same whatever
    // order the earlier webhooks arrived in (a preview image or a progress step never leaks).
    update.progress = 100;
    update.imageUrl = upstream.imageUrl;
    update.imageUrls = upstream.imageUrls;
    update.videoUrl = upstream.videoUrl;
    update.buttons = status === "SUCCESS" ? upstream.buttons : [];
    update.finishedAt = new Date(upstream.finishTime ?? now.getTime()).toISOString();
  } else {
    if (upstream.imageUrl) update.imageUrl = upstream.imageUrl;
    if (upstream.imageUrls.length > 0) update.imageUrls = upstream.imageUrls;
    if (upstream.videoUrl) update.videoUrl = upstream.videoUrl;
  }
  return update;
}
