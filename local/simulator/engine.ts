import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { type FaultConfig, mergeFaults, parseDirectives, stripDirectives } from "./faults.ts";
import { renderGrid, renderQuadrant, renderVideo, type Size } from "./images.ts";
import { createJobFile, type SavedJob } from "./persistence.ts";
import type { SimProfile } from "./profiles.ts";
import { chance, createRng, deriveSeed, type Rng, randomInt, shuffle } from "./rng.ts";
import {
  DISCORD_INSTANCE_ID,
  describeButtons,
  gridButtons,
  hasProgress,
  isTerminal,
  type SimAction,
  type SimTask,
  shortenButtons,
  upscaleButtons,
  videoButtons,
} from "./task.ts";
import { numbered, shortenReport } from "./texts.ts";
import { createWebhookDispatcher, type Delivery } from "./webhooks.ts";

export type LogFn = (msg: string, fields?: Record<string, unknown>) => void;

/** What a job's pictures are made from. */
export type Look =
  | { kind: "grid"; seed: string; size: Size }
  | { kind: "quadrant"; seed: string; index: number; size: Size };

export interface NewTask {
  action: SimAction;
  prompt: string;
  /** the command text; gets the new id for `/blend <id> <n>`-like descriptions */
  description: (id: string) => string;
  state: string | null;
  notifyHook: string | null;
  /** created waiting in MODAL for /mj/submit/modal instead of starting */
  modal?: boolean;
  look: Look;
  /** describe/shorten: the prompts a later pick button chooses from */
  choices?: string[];
  /** video: how many videos the batch holds (trueai reports them all) */
  batchSize?: number;
}

export interface Job {
  task: SimTask;
  look: Look;
  choices: string[];
  batchSize: number;
  rng: Rng;
  step: number;
  timer?: NodeJS.Timeout;
  plan?: Plan;
  held: Delivery[];
  images: { final?: Buffer; preview?: Buffer; video?: Buffer };
  /** cometapi: the gateway's copy, as of its last sync */
  synced?: { at: number; task: SimTask };
}

interface Plan {
  /** progress step at which the task fails instead of moving on; null = it succeeds */
  failAt: number | null;
  dropAll: boolean;
  dropFinal: boolean;
  duplicate: boolean;
  reorder: boolean;
}

export interface SimStats {
  /** submit requests received (authenticated), whatever the answer */
  submits: number;
  /** upstream jobs (tasks) created */
  jobsCreated: number;
  /** webhook POSTs attempted, failed ones included */
  webhooksSent: number;
  /** attempted webhook POSTs that errored, timed out or got a non-2xx answer */
  webhooksFailed: number;
  /** webhooks not sent because of a drop fault or neverNotify */
  webhooksDropped: number;
  /** jobs created per submitted `state` (tasks without a state are not counted) */
  jobsByState: Record<string, number>;
  /** authenticated `/mj` requests per path prefix: `mj`, `mj-fast`, `mj-relax`, `mj-turbo` */
  requestsByPrefix: Record<string, number>;
  /** ids of jobs that started while their submit's answer was withheld (acceptedTimeout) */
  answersWithheld: string[];
}

export interface EngineOptions {
  /** which host to behave as (profiles.ts); default cometapi */
  profile?: SimProfile;
  /**
   * cometapi: how often the gateway syncs its copy of a task from the proxy (new-api's
   * UpdateMidjourneyTaskBulk loop, about every 15 s). Until the first sync, fetch and
   * list-by-condition show the copy made at submit: `status: ""`, `buttons: null`. 0: no lag.
   */
  gatewaySyncMs?: number;
  stepMs: number;
  progressSteps: readonly number[];
  faults: FaultConfig;
  seed: number;
  log: LogFn;
  /** Keep the jobs here and finish the unfinished ones after a restart; absent: in memory. */
  dataDir?: string;
}

/** How long the `timeout` submit fault holds a request: longer than any sane client timeout. */
export const HOLD_MS = 30_000;

export type Engine = ReturnType<typeof createEngine>;

/**
 * The simulator's state and clock: tasks, their timer-driven lifecycle, webhook faults and
 * counters. No HTTP here except the outgoing webhooks.
 */
export function createEngine(options: EngineOptions) {
  const { stepMs, progressSteps, log } = options;
  let faults = options.faults;
  const jobs = new Map<string, Job>();
  const scheduled = new Set<Job>();
  const holds = new Set<() => void>();
  const idleWaiters: (() => void)[] = [];
  const abort = new AbortController();
  // every pending webhook delay listens on this one signal
  setMaxListeners(0, abort.signal);
  const submitRng = createRng(deriveSeed(options.seed, -1));
  const idRng = createRng(deriveSeed(options.seed, -2));
  let baseUrl = "http://127.0.0.1";
  let stopped = false;
  const stats: SimStats = {
    submits: 0,
    jobsCreated: 0,
    webhooksSent: 0,
    webhooksFailed: 0,
    webhooksDropped: 0,
    jobsByState: {},
    requestsByPrefix: {},
    answersWithheld: [],
  };
  const jobFile = options.dataDir
    ? createJobFile(options.dataDir, () => [...jobs.values()].map(saveJob))
    : null;
  // the speed of the submit being handled (its path prefix); handlers run synchronously
  let requestMode: SimTask["mode"];

  const dispatcher = createWebhookDispatcher({
    signal: abort.signal,
    onSent(taskId, ok) {
      stats.webhooksSent++;
      if (!ok) {
        stats.webhooksFailed++;
        log("webhook failed", { taskId });
      }
    },
    onIdle: checkIdle,
  });

  function isIdle(): boolean {
    return stopped || (scheduled.size === 0 && dispatcher.pending() === 0);
  }

  function checkIdle(): void {
    if (!isIdle()) return;
    for (const resolve of idleWaiters.splice(0)) resolve();
  }

  /** Date.now() plus 3 random digits, like NZ/TA; unique within this simulator. */
  function nextId(): string {
    for (;;) {
      const id = `${Date.now()}${String(randomInt(idRng, 1000)).padStart(3, "0")}`;
      if (!jobs.has(id)) return id;
    }
  }

  function imageUrl(id: string): string {
    return `${baseUrl}/mj/image/${id}`;
  }

  function schedule(job: Job): void {
    scheduled.add(job);
    job.timer = setTimeout(() => advance(job), stepMs);
  }

  function stepsOf(job: Job): readonly number[] {
    return hasProgress(job.task.action) ? progressSteps : [];
  }

  function planRun(job: Job): Plan {
    const parsed = parseDirectives(job.task.prompt);
    const d = parsed.ok ? parsed.directives : undefined;
    const dropAll = (d?.dropHooks ?? false) || chance(job.rng, faults.dropWebhooks);
    const reorder = (d?.reorder ?? false) || chance(job.rng, faults.reorderWebhooks);
    const fails = (d?.fail ?? false) || chance(job.rng, faults.taskFailure);
    return {
      failAt: fails ? randomInt(job.rng, stepsOf(job).length + 1) : null,
      dropAll,
      dropFinal: d?.dropFinal ?? false,
      duplicate: d?.duplicate ?? false,
      reorder,
    };
  }

  /** Starts the timer-driven run of a NOT_START or MODAL task. */
  function start(job: Job): void {
    job.plan = planRun(job);
    jobFile?.changed();
    schedule(job);
  }

  function saveJob(job: Job): SavedJob {
    return {
      task: job.task,
      look: job.look,
      choices: job.choices,
      step: job.step,
      plan: job.plan ?? null,
      held: job.held,
    };
  }

  /** Takes back the jobs of an earlier run (DATA_DIR): fetches find them again at once. */
  function restore(saved: SavedJob[]): void {
    for (const [i, entry] of saved.entries()) {
      const job: Job = {
        task: entry.task,
        look: entry.look,
        choices: entry.choices,
        // a saved task shows its batch; the size is only needed to serve the batch's files
        batchSize: Math.max(1, (entry.task as { videoUrls?: unknown[] }).videoUrls?.length ?? 1),
        rng: createRng(deriveSeed(options.seed, -3 - i)),
        step: entry.step,
        plan: entry.plan ?? undefined,
        held: entry.held,
        images: {},
      };
      jobs.set(job.task.id, job);
    }
  }

  function advance(job: Job): void {
    scheduled.delete(job);
    job.timer = undefined;
    const task = job.task;
    const plan = job.plan as Plan;
    const steps = stepsOf(job);
    if (task.status === "NOT_START" || task.status === "MODAL") {
      task.status = "SUBMITTED";
      task.progress = "0%";
      task.startTime = Date.now();
      changed(job);
      schedule(job);
    } else if (plan.failAt === job.step) {
      task.status = "FAILURE";
      task.progress = "";
      task.failReason = "[Invalid parameter] Invalid value";
      task.finishTime = Date.now();
      changed(job);
    } else if (job.step < steps.length) {
      const progress = steps[job.step];
      job.step++;
      task.status = "IN_PROGRESS";
      task.progress = `${progress}%`;
      task.imageUrl = `${imageUrl(task.id)}?preview=${progress}`;
      changed(job);
      schedule(job);
    } else {
      succeed(job);
      changed(job);
    }
    checkIdle();
  }

  function succeed(job: Job): void {
    const task = job.task;
    const hash = randomUUID();
    task.status = "SUCCESS";
    task.progress = "100%";
    task.finishTime = Date.now();
    task.properties.messageHash = hash;
    task.imageUrl = imageUrl(task.id);
    switch (task.action) {
      case "DESCRIBE":
        task.prompt = numbered(job.choices);
        task.promptEn = task.prompt;
        task.properties.finalPrompt = task.prompt;
        task.buttons = describeButtons();
        break;
      case "SHORTEN":
        task.imageUrl = null;
        task.properties.finalPrompt = shortenReport(task.prompt, job.choices);
        task.buttons = shortenButtons(job.choices.length);
        break;
      case "UPSCALE":
        task.buttons = upscaleButtons(hash);
        break;
      case "VIDEO":
        task.videoUrl = `${baseUrl}/mj/video/${task.id}.mp4`;
        task.buttons = videoButtons(hash);
        if ((options.profile ?? "cometapi") === "trueai") {
          // trueai (TaskInfo.cs): the mp4 is also imageUrl, the batch in videoUrls and imageUrls,
          // and a video's grid buttons are video_virtual_upscale
          const batch = Array.from({ length: job.batchSize }, (_, i) => ({
            url: i === 0 ? task.videoUrl : `${baseUrl}/mj/video/${task.id}-${i + 1}.mp4`,
            thumbnail: null,
          }));
          task.imageUrl = task.videoUrl;
          Object.assign(task, { videoUrls: batch, imageUrls: batch });
          task.buttons = [1, 2, 3, 4].map((n) => ({
            customId: `MJ::JOB::video_virtual_upscale::${n}::${hash}`,
            emoji: "",
            label: `U${n}`,
            type: 2,
            style: 2,
          }));
        }
        break;
      default:
        task.buttons = gridButtons(hash);
    }
  }

  /** Records a change after submission: log it and notify the task's hook, faults applied. */
  function changed(job: Job): void {
    const task = job.task;
    jobFile?.changed();
    log("task changed", { taskId: task.id, status: task.status, progress: task.progress });
    const url = task.properties.notifyHook;
    const plan = job.plan as Plan;
    const terminal = isTerminal(task.status);
    if (url) {
      const dropped =
        faults.neverNotify ||
        plan.dropAll ||
        (plan.dropFinal && terminal) ||
        chance(job.rng, faults.dropEachWebhook);
      if (dropped) {
        stats.webhooksDropped++;
      } else {
        const copies = plan.duplicate || chance(job.rng, faults.duplicateWebhooks) ? 2 : 1;
        const body = JSON.stringify(view(task));
        const delayMs =
          faults.delayWebhookMs > 0 ? randomInt(job.rng, faults.delayWebhookMs + 1) : 0;
        for (let i = 0; i < copies; i++) {
          const delivery = { url, body, delayMs: i === 0 ? delayMs : 0 };
          if (plan.reorder) job.held.push(delivery);
          else dispatcher.enqueue(task.id, delivery);
        }
      }
    }
    if (terminal && job.held.length > 0) {
      for (const delivery of shuffle(job.rng, job.held.splice(0)))
        dispatcher.enqueue(task.id, delivery);
    }
  }

  /** The task JSON as this host shows it: novicezk's Task has no `buttons`. */
  function view(task: SimTask): SimTask {
    const copy = structuredClone(task);
    if ((options.profile ?? "cometapi") === "novicezk") {
      delete (copy as Partial<SimTask>).buttons;
    }
    return copy;
  }

  function createTask(input: NewTask): SimTask {
    const id = nextId();
    const task: SimTask = {
      id,
      action: input.action,
      status: input.modal ? "MODAL" : "NOT_START",
      progress: null,
      prompt: input.prompt,
      promptEn: input.prompt,
      description: input.description(id),
      state: input.state,
      submitTime: Date.now(),
      startTime: null,
      finishTime: null,
      imageUrl: null,
      ...(input.action === "VIDEO" ? { videoUrl: null } : {}),
      failReason: null,
      properties: {
        notifyHook: input.notifyHook,
        finalPrompt: stripDirectives(input.prompt),
        discordInstanceId: DISCORD_INSTANCE_ID,
      },
      buttons: [],
      ...(requestMode ? { mode: requestMode } : {}),
    };
    const job: Job = {
      task,
      look: input.look,
      choices: input.choices ?? [],
      batchSize: input.batchSize ?? 1,
      rng: createRng(deriveSeed(options.seed, stats.jobsCreated)),
      step: 0,
      held: [],
      images: {},
    };
    jobs.set(id, job);
    stats.jobsCreated++;
    if (input.state !== null) {
      stats.jobsByState[input.state] = (stats.jobsByState[input.state] ?? 0) + 1;
    }
    log("task created", { taskId: id, action: task.action, status: task.status });
    jobFile?.changed();
    if (!input.modal) start(job);
    return structuredClone(task);
  }

  function render(job: Job, dim: boolean): Buffer {
    const look = job.look;
    return look.kind === "grid"
      ? renderGrid(look.seed, look.size, dim)
      : renderQuadrant(look.seed, look.index, look.size, dim);
  }

  if (jobFile) restore(jobFile.load());

  return {
    log,
    profile: options.profile ?? ("cometapi" as SimProfile),
    get faults(): FaultConfig {
      return faults;
    },
    setFaults(patch: Partial<FaultConfig>): FaultConfig {
      faults = mergeFaults(faults, patch);
      return faults;
    },
    setBaseUrl(url: string): void {
      baseUrl = url.replace(/\/+$/, "");
    },
    /**
     * Goes on with the restored jobs that had not finished, from the step they had reached,
     * webhooks included, as a real upstream does after its restart (once the base URL is known:
     * their results are served here now).
     */
    resume(): void {
      let resumed = 0;
      for (const job of jobs.values()) {
        if (stopped || job.timer || isTerminal(job.task.status) || job.task.status === "MODAL") {
          continue;
        }
        resumed++;
        if (job.plan) schedule(job);
        else start(job);
      }
      if (jobs.size > 0) log("jobs restored", { jobs: jobs.size, resumed });
    },
    /** the RNG for per-request dice (submit faults), drawn in request order */
    submitRng,
    countSubmit(): void {
      stats.submits++;
    },
    /** A job started but its submit's answer was withheld: only its webhooks can tell. */
    countWithheld(jobId: string): void {
      stats.answersWithheld.push(jobId);
    },
    countRequest(prefix: string): void {
      stats.requestsByPrefix[prefix] = (stats.requestsByPrefix[prefix] ?? 0) + 1;
    },
    /** Runs `fn` with the speed of the request's path prefix given to the tasks it creates. */
    withRequestMode<T>(prefix: string, fn: () => T): T {
      const speed = /^mj-(fast|relax|turbo)$/.exec(prefix)?.[1];
      requestMode = speed ? (speed.toUpperCase() as SimTask["mode"]) : undefined;
      try {
        return fn();
      } finally {
        requestMode = undefined;
      }
    },
    nextId,
    createTask,
    /** The internal record of a task, for handlers that need more than its JSON. */
    job(id: string): Job | undefined {
      return jobs.get(id);
    },
    /** Ends an unfinished job as FAILURE with `reason` (trueai's cancel); its hook is told. */
    stopJob(job: Job, reason: string): void {
      if (isTerminal(job.task.status)) return;
      clearTimeout(job.timer);
      scheduled.delete(job);
      job.timer = undefined;
      job.plan ??= planRun(job);
      job.task.status = "FAILURE";
      job.task.progress = "";
      job.task.failReason = reason;
      job.task.finishTime = Date.now();
      changed(job);
      checkIdle();
    },
    /** Leaves MODAL: applies the modal's prompt and starts the run. */
    confirmModal(job: Job, prompt: string | undefined): SimTask {
      if (prompt !== undefined) {
        job.task.prompt = prompt;
        job.task.promptEn = prompt;
        job.task.properties.finalPrompt = stripDirectives(prompt);
      }
      start(job);
      return structuredClone(job.task);
    },
    task(id: string): SimTask | undefined {
      const job = jobs.get(id);
      return job && structuredClone(job.task);
    },
    /**
     * The task as fetch and list-by-condition show it. Behind the cometapi gateway that is the
     * gateway's own copy (QuantumNous/new-api, relay/mjproxy_handler.go inserts it with
     * `Status: ""`, no buttons; controller/midjourney.go refreshes it in a loop): before its
     * first sync it says nothing, after it lags by up to `gatewaySyncMs`.
     */
    polledTask(id: string): SimTask | undefined {
      const job = jobs.get(id);
      if (!job) return undefined;
      const syncMs = options.gatewaySyncMs ?? 0;
      if ((options.profile ?? "cometapi") !== "cometapi" || syncMs <= 0) return view(job.task);
      const now = Date.now();
      if (!job.synced || now - job.synced.at >= syncMs) {
        if (now - job.task.submitTime < syncMs) {
          return {
            ...structuredClone(job.task),
            status: "" as SimTask["status"],
            progress: "0%",
            imageUrl: null,
            buttons: null as unknown as SimTask["buttons"],
          };
        }
        job.synced = { at: now, task: structuredClone(job.task) };
      }
      return structuredClone(job.synced.task);
    },
    tasks(): SimTask[] {
      return [...jobs.values()].map((job) => view(job.task));
    },
    stats(): SimStats {
      return structuredClone(stats);
    },
    /** The PNG at a task's imageUrl: the result once SUCCESS, a dim preview while it runs. */
    image(id: string): Buffer | undefined {
      const job = jobs.get(id);
      if (!job?.task.imageUrl) return undefined;
      if (job.task.status === "SUCCESS") {
        job.images.final ??= render(job, false);
        return job.images.final;
      }
      job.images.preview ??= render(job, true);
      return job.images.preview;
    },
    /** `<id>` is the batch's first video, `<id>-<n>` its n-th. */
    video(file: string): Buffer | undefined {
      const [, id = "", n = "1"] = /^(.*?)(?:-([2-4]))?$/.exec(file) ?? [];
      const job = jobs.get(id);
      if (!job?.task.videoUrl || Number(n) > job.batchSize) return undefined;
      if (n !== "1") return renderVideo(`${job.look.seed}:${n}`);
      job.images.video ??= renderVideo(job.look.seed);
      return job.images.video;
    },
    /** Holds a request (the `timeout` fault) for HOLD_MS or until stop(). */
    hold(): Promise<void> {
      if (stopped) return Promise.resolve();
      return new Promise((resolve) => {
        const release = () => {
          clearTimeout(timer);
          holds.delete(release);
          resolve();
        };
        const timer = setTimeout(release, HOLD_MS);
        holds.add(release);
      });
    },
    idle(): Promise<void> {
      if (isIdle()) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    /** Stops every timer, abandons pending webhooks and releases held requests. */
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      for (const job of scheduled) clearTimeout(job.timer);
      scheduled.clear();
      jobFile?.flush();
      abort.abort();
      for (const release of [...holds]) release();
      await dispatcher.settled();
      checkIdle();
    },
  };
}
