import * as z from "zod";

export const SubmitFaultKind = z.enum([
  "http500",
  "timeout",
  "garbage",
  "empty",
  "queueFull",
  "refused",
  "bannedPrompt",
  "envelope",
  /** the job IS created (webhooks follow) but the answer never comes: a lost response */
  "acceptedTimeout",
  /**
   * trueai's per-user limits and empty account pool (SubmitController.cs, TaskService.cs):
   * code 4 "并发数已达上限" / "队列数已达上限" from imagine, the `{success:false}` envelope with
   * the same text from every other submit route; code 3 "无可用的账号实例". The host is busy.
   */
  "concurrencyLimit",
  "queueLimit",
  "noAccount",
]);
export type SubmitFaultKind = z.infer<typeof SubmitFaultKind>;

export const UnknownTaskFetch = z.enum(["empty200", "204", "400"]);
export type UnknownTaskFetch = z.infer<typeof UnknownTaskFetch>;

const probability = z.number().min(0).max(1);

/** How badly the simulated upstream behaves. Probabilities are in [0, 1]. */
export const FaultConfig = z.strictObject({
  /** probability that ALL of a task's webhooks are dropped (decided when its run starts) */
  dropWebhooks: probability,
  /** probability that one single webhook is dropped */
  dropEachWebhook: probability,
  /** probability that one webhook is sent twice */
  duplicateWebhooks: probability,
  /** probability that a task's webhooks are held until it ends, then sent shuffled */
  reorderWebhooks: probability,
  /** each webhook waits a random 0..delayWebhookMs before it is sent (order is kept) */
  delayWebhookMs: z.number().int().min(0),
  /** probability that a submit answers one of `submitFailureKinds` instead of accepting */
  submitFailure: probability,
  /** the faults a failing submit picks from, uniformly */
  submitFailureKinds: z.array(SubmitFaultKind),
  /** probability that an accepted task ends in FAILURE instead of SUCCESS */
  taskFailure: probability,
  /** gateway behaviour (CometAPI may strip notifyHook): never call any notifyHook */
  neverNotify: z.boolean(),
  /** what `GET /mj/task/{id}/fetch` answers for an unknown id: NZ, TA or NA/CometAPI */
  unknownTaskFetch: UnknownTaskFetch,
});
export type FaultConfig = z.infer<typeof FaultConfig>;

export const PartialFaultConfig = FaultConfig.partial();

export const DEFAULT_FAULTS: FaultConfig = {
  dropWebhooks: 0,
  dropEachWebhook: 0,
  duplicateWebhooks: 0,
  reorderWebhooks: 0,
  delayWebhookMs: 0,
  submitFailure: 0,
  // the busy kinds added for the trueai profile stay out, so seeded runs keep their dice
  submitFailureKinds: SubmitFaultKind.options.filter(
    (k) => !["concurrencyLimit", "queueLimit", "noAccount"].includes(k),
  ),
  taskFailure: 0,
  neverNotify: false,
  unknownTaskFetch: "400",
};

/** Merges a partial config over a full one; throws a ZodError naming the bad key. */
export function mergeFaults(base: FaultConfig, patch: Partial<FaultConfig>): FaultConfig {
  return FaultConfig.parse({ ...base, ...PartialFaultConfig.parse(patch) });
}

/**
 * Behaviour forced by `--sim-*` words inside a prompt, so an end-to-end test can pick the
 * upstream's behaviour for one task through the real API.
 */
export interface Directives {
  /** answer this fault instead of accepting the submit */
  submit?: SubmitFaultKind;
  /** accept with code 22 (queued) instead of 1 */
  queued: boolean;
  /** send none of the task's webhooks */
  dropHooks: boolean;
  /** send every webhook but the terminal one */
  dropFinal: boolean;
  /** send every webhook twice */
  duplicate: boolean;
  /** hold the task's webhooks until it ends, then send them shuffled */
  reorder: boolean;
  /** end in FAILURE */
  fail: boolean;
}

export type ParsedDirectives =
  | { ok: true; directives: Directives }
  | { ok: false; unknown: string };

const DIRECTIVE = /(?:^|\s)--sim-([a-z-]+)(?:=(\S*))?(?=\s|$)/g;

/** Reads every `--sim-...` word of a prompt; an unknown one is an error, not silently ignored. */
export function parseDirectives(prompt: string): ParsedDirectives {
  const directives: Directives = {
    queued: false,
    dropHooks: false,
    dropFinal: false,
    duplicate: false,
    reorder: false,
    fail: false,
  };
  for (const match of prompt.matchAll(DIRECTIVE)) {
    const [word, name, value] = match;
    if (name === "submit") {
      const kind = SubmitFaultKind.safeParse(value);
      if (!kind.success) return { ok: false, unknown: word.trim() };
      directives.submit = kind.data;
    } else if (value !== undefined) {
      return { ok: false, unknown: word.trim() };
    } else if (name === "banned") directives.submit = "bannedPrompt";
    else if (name === "queued") directives.queued = true;
    else if (name === "drop-hooks") directives.dropHooks = true;
    else if (name === "drop-final") directives.dropFinal = true;
    else if (name === "duplicate") directives.duplicate = true;
    else if (name === "reorder") directives.reorder = true;
    else if (name === "fail") directives.fail = true;
    else return { ok: false, unknown: word.trim() };
  }
  return { ok: true, directives };
}

/** The prompt as Midjourney would echo it in `finalPrompt`: without simulator directives. */
export function stripDirectives(prompt: string): string {
  return prompt.replace(DIRECTIVE, "").replace(/\s+/g, " ").trim();
}

const BANNED_WORDS = ["nude"];

/** NZ's banned-word pre-check: whole word, case-insensitive. */
export function findBannedWord(prompt: string): string | undefined {
  return BANNED_WORDS.find((word) => new RegExp(`\\b${word}\\b`, "i").test(prompt));
}
