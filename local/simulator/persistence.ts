import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Look } from "./engine.ts";
import { isTerminal, type SimTask } from "./task.ts";
import type { Delivery } from "./webhooks.ts";

/** How a job's run was decided at its start (faults included), so a restart keeps to it. */
export interface SavedPlan {
  failAt: number | null;
  dropAll: boolean;
  dropFinal: boolean;
  duplicate: boolean;
  reorder: boolean;
}

/** One job as kept on disk: enough to answer fetches for it and to finish its run. */
export interface SavedJob {
  task: SimTask;
  look: Look;
  choices: string[];
  step: number;
  plan: SavedPlan | null;
  /** webhooks held back for a reordered delivery at the end */
  held: Delivery[];
}

export interface JobFile {
  /** The jobs kept before, oldest first; [] when there is no file yet. */
  load(): SavedJob[];
  /** Asks for `jobs()` to be written soon (many changes in a burst make one write). */
  changed(): void;
  /** Writes now if a write is pending (at stop). */
  flush(): void;
}

const VERSION = 1;
const DEBOUNCE_MS = 200;
/**
 * Finished jobs kept in the file, newest: enough for every task a restarted stack could still ask
 * about, and a file that stays small (about 1 KB a job) however long `npm start` has run.
 */
export const MAX_FINISHED_KEPT = 2000;

/** Every unfinished job, and the newest MAX_FINISHED_KEPT finished ones, in creation order. */
export function jobsToKeep(jobs: SavedJob[]): SavedJob[] {
  let finished = jobs.filter((job) => isTerminal(job.task.status)).length;
  return jobs.filter((job) => !isTerminal(job.task.status) || finished-- <= MAX_FINISHED_KEPT);
}

/**
 * The simulator's jobs under `dir` (`jobs.json`), as a real upstream keeps its tasks across its
 * own restarts: written whole, to a temporary file then renamed, so a crash leaves the previous
 * version, never a torn one. Pictures are not kept: they are painted again from each job's look.
 */
export function createJobFile(dir: string, jobs: () => SavedJob[]): JobFile {
  const path = join(dir, "jobs.json");
  let timer: NodeJS.Timeout | undefined;

  function write(): void {
    timer = undefined;
    mkdirSync(dir, { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify({ version: VERSION, jobs: jobsToKeep(jobs()) }));
      renameSync(temporary, path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }

  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw error;
      }
      const saved = JSON.parse(text) as { version?: number; jobs?: SavedJob[] };
      if (saved.version !== VERSION || !Array.isArray(saved.jobs)) {
        throw new Error(`simulator: ${path} is not a jobs file this version reads`);
      }
      return saved.jobs;
    },
    changed() {
      timer ??= setTimeout(write, DEBOUNCE_MS);
    },
    flush() {
      if (timer === undefined) return;
      clearTimeout(timer);
      write();
    },
  };
}
