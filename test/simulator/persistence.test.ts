import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type SimTask, startSimulator } from "../../local/simulator/index.ts";
import { jobsToKeep, MAX_FINISHED_KEPT, type SavedJob } from "../../local/simulator/persistence.ts";
import { eventually } from "../helpers.ts";
import { API_KEY, startReceiver } from "./helpers.ts";

/**
 * A simulator started again on its dataDir (npm start: DATA_DIR/simulator) knows the jobs of the
 * earlier run and finishes the ones that were running, calling their notifyHook again, as a
 * real upstream does after its own restart (its tasks live in its database, not in memory).
 */
const dataDir = mkdtempSync(join(tmpdir(), "paperboat-sim-jobs-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const options = { apiKey: API_KEY, stepMs: 60, progressSteps: [0, 25, 50, 75], dataDir };
const auth = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };

async function submit(url: string, prompt: string, notifyHook: string): Promise<string> {
  const response = await fetch(`${url}/mj/submit/imagine`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ prompt, notifyHook }),
  });
  return ((await response.json()) as { result: string }).result;
}

async function fetchTask(url: string, id: string) {
  const response = await fetch(`${url}/mj/task/${id}/fetch`, { headers: auth });
  const task = response.status === 200 ? ((await response.json()) as SimTask) : null;
  return { status: response.status, task };
}

describe("the simulator across a restart on the same dataDir", () => {
  it("answers for finished jobs, and finishes the running one with its webhooks", async () => {
    const rx = await startReceiver();
    try {
      const first = await startSimulator(options);
      const doneId = await submit(first.url, "finished before the restart", rx.url);
      await first.idle();
      const done = (await fetchTask(first.url, doneId)).task as SimTask;
      expect(done.status).toBe("SUCCESS");
      const picture = Buffer.from(await (await fetch(done.imageUrl as string)).arrayBuffer());

      const runningId = await submit(first.url, "running at the restart", rx.url);
      await eventually(
        async () => (await fetchTask(first.url, runningId)).task,
        (t) => t?.status === "IN_PROGRESS",
      );
      await first.stop();
      const saved = JSON.parse(readFileSync(join(dataDir, "jobs.json"), "utf8"));
      expect(saved.jobs.map((j: { task: { id: string } }) => j.task.id)).toEqual([
        doneId,
        runningId,
      ]);
      const hooksBefore = rx.hooks.length;

      const second = await startSimulator(options);
      try {
        expect(second.url).not.toBe(first.url);
        // the finished job is as it was, its picture painted again, the same bytes
        expect((await fetchTask(second.url, doneId)).task).toEqual(done);
        const again = await fetch(`${second.url}/mj/image/${doneId}`);
        expect(Buffer.from(await again.arrayBuffer()).equals(picture)).toBe(true);

        await second.idle();
        const finished = (await fetchTask(second.url, runningId)).task as SimTask;
        expect(finished.status).toBe("SUCCESS");
        expect(finished.imageUrl).toBe(`${second.url}/mj/image/${runningId}`);
        const after = rx.hooks.slice(hooksBefore).map((h) => h.body);
        expect(after.every((t) => t.id === runningId)).toBe(true);
        expect(after.at(-1)).toMatchObject({ id: runningId, status: "SUCCESS", progress: "100%" });
        // progress goes on from where it was, never back
        const progress = after.map((t) => Number.parseInt(t.progress ?? "0", 10));
        expect(progress).toEqual([...progress].sort((a, b) => a - b));
      } finally {
        await second.stop();
      }
    } finally {
      await rx.close();
    }
  });

  it("starts empty when the folder holds no jobs file yet", async () => {
    const empty = mkdtempSync(join(tmpdir(), "paperboat-sim-empty-"));
    const sim = await startSimulator({ ...options, dataDir: empty });
    try {
      expect(sim.tasks()).toEqual([]);
      expect((await fetchTask(sim.url, "1234567890123456")).status).not.toBe(200);
    } finally {
      await sim.stop();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("keeps every unfinished job in the file, and only the newest finished ones", () => {
    const job = (n: number, status: SimTask["status"]) =>
      ({ task: { id: String(n), status } }) as SavedJob;
    const jobs = [
      job(0, "IN_PROGRESS"),
      ...Array.from({ length: MAX_FINISHED_KEPT + 2 }, (_, i) => job(i + 1, "SUCCESS")),
      job(MAX_FINISHED_KEPT + 3, "SUBMITTED"),
    ];
    const kept = jobsToKeep(jobs).map((j) => Number(j.task.id));
    expect(kept).toHaveLength(MAX_FINISHED_KEPT + 2);
    expect(kept.slice(0, 2)).toEqual([0, 3]);
    expect(kept.at(-1)).toBe(MAX_FINISHED_KEPT + 3);
  });
});
