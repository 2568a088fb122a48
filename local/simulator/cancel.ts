import type { Engine } from "./engine.ts";
import { json, type Reply } from "./reply.ts";

/**
 * How the simulated host answers `POST /mj/task/{id}/cancel`:
 * - `trueai`: its TaskController's cancel route: an unfinished job ends as FAILURE "取消任务"
 *   (its webhook is sent like any change), and the answer is an empty 200 whatever the id.
 * - `new-api` (CometAPI): the gateway has no such route, and answers every unknown path with its
 *   web page (200, text/html).
 * - `novicezk`: no such route either: Spring's 404.
 */
export type CancelBehaviour = "trueai" | "new-api" | "novicezk";

const WEB_PAGE = "<!doctype html><html><head><title>New API</title></head><body></body></html>";

export function cancelTask(engine: Engine, id: string, behaviour: CancelBehaviour): Reply {
  switch (behaviour) {
    case "trueai": {
      const job = engine.job(id);
      if (job) engine.stopJob(job, "取消任务");
      return { kind: "empty", status: 200 };
    }
    case "new-api":
      return { kind: "text", status: 200, body: WEB_PAGE, contentType: "text/html; charset=utf-8" };
    case "novicezk":
      return json(
        {
          timestamp: new Date().toISOString(),
          status: 404,
          error: "Not Found",
          path: `/mj/task/${id}/cancel`,
        },
        404,
      );
  }
}
