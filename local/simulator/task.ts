/** The upstream task JSON, exactly as fetch, list-by-condition and webhooks show it. */
export type SimStatus =
  | "NOT_START"
  | "SUBMITTED"
  | "MODAL"
  | "IN_PROGRESS"
  | "SUCCESS"
  | "FAILURE"
  | "CANCEL";

export type SimAction =
  | "IMAGINE"
  | "UPSCALE"
  | "VARIATION"
  | "LOW_VARIATION"
  | "HIGH_VARIATION"
  | "REROLL"
  | "ZOOM"
  | "CUSTOM_ZOOM"
  | "PAN"
  | "INPAINT"
  | "BLEND"
  | "DESCRIBE"
  | "SHORTEN"
  | "VIDEO"
  | "EDIT"
  | "RETEXTURE";

export interface SimButton {
  customId: string;
  emoji: string;
  label: string;
  type: number;
  style: number;
}

export interface SimTaskProperties {
  notifyHook: string | null;
  finalPrompt: string;
  discordInstanceId: string;
  /** the Midjourney job UUID, set on SUCCESS; buttons embed it */
  messageHash?: string;
}

export interface SimTask {
  id: string;
  action: SimAction;
  status: SimStatus;
  /** "57%"; null before submission, "" on FAILURE (NZ/TA) */
  progress: string | null;
  prompt: string;
  promptEn: string;
  description: string;
  state: string | null;
  submitTime: number;
  startTime: number | null;
  finishTime: number | null;
  imageUrl: string | null;
  /** only on VIDEO tasks */
  videoUrl?: string | null;
  failReason: string | null;
  properties: SimTaskProperties;
  buttons: SimButton[];
  /** trueai's `mode` (TaskInfo.cs): the speed of the path prefix it was submitted under */
  mode?: "FAST" | "RELAX" | "TURBO";
}

/** The account instance every simulated task runs on (TA also repeats it as discordChannelId). */
export const DISCORD_INSTANCE_ID = "1118138338562560102";

export const TERMINAL_STATUSES: readonly SimStatus[] = ["SUCCESS", "FAILURE", "CANCEL"];

export function isTerminal(status: SimStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

function button(customId: string, label: string, emoji = ""): SimButton {
  return { customId, emoji, label, type: 2, style: 2 };
}

const QUADRANTS = [1, 2, 3, 4] as const;

/** The 9 buttons of a grid (IMAGINE, VARIATION, REROLL, BLEND, zoom, pan ...): U1–U4, 🔄, V1–V4. */
export function gridButtons(hash: string): SimButton[] {
  return [
    ...QUADRANTS.map((n) => button(`MJ::JOB::upsample::${n}::${hash}`, `U${n}`)),
    button(`MJ::JOB::reroll::0::${hash}::SOLO`, "", "🔄"),
    ...QUADRANTS.map((n) => button(`MJ::JOB::variation::${n}::${hash}`, `V${n}`)),
  ];
}

/** The buttons under a single upscaled image (v6.1 style). */
export function upscaleButtons(hash: string): SimButton[] {
  return [
    button(`MJ::JOB::upsample_v6r1_2x_subtle::1::${hash}::SOLO`, "Upscale (Subtle)"),
    button(`MJ::JOB::upsample_v6r1_2x_creative::1::${hash}::SOLO`, "Upscale (Creative)"),
    button(`MJ::JOB::low_variation::1::${hash}::SOLO`, "Vary (Subtle)", "🪄"),
    button(`MJ::JOB::high_variation::1::${hash}::SOLO`, "Vary (Strong)", "🪄"),
    button(`MJ::Inpaint::1::${hash}::SOLO`, "Vary (Region)", "🖌️"),
    button(`MJ::Outpaint::50::1::${hash}::SOLO`, "Zoom Out 2x", "🔍"),
    button(`MJ::Outpaint::75::1::${hash}::SOLO`, "Zoom Out 1.5x", "🔍"),
    button(`MJ::CustomZoom::${hash}`, "Custom Zoom", "🔍"),
    button(`MJ::JOB::pan_left::1::${hash}::SOLO`, "", "⬅️"),
    button(`MJ::JOB::pan_right::1::${hash}::SOLO`, "", "➡️"),
    button(`MJ::JOB::pan_up::1::${hash}::SOLO`, "", "⬆️"),
    button(`MJ::JOB::pan_down::1::${hash}::SOLO`, "", "⬇️"),
    button(`MJ::JOB::animate_high::1::${hash}::SOLO`, "Animate (High motion)", "🎞️"),
    button(`MJ::JOB::animate_low::1::${hash}::SOLO`, "Animate (Low motion)", "🎞️"),
  ];
}

const DIGITS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"] as const;

export function describeButtons(): SimButton[] {
  return [
    ...QUADRANTS.map((n) => button(`MJ::Job::PicReader::${n}`, "", DIGITS[n - 1])),
    button("MJ::Picread::Retry", "", "🔄"),
    button("MJ::Job::PicReader::all", "Imagine all", "🎉"),
  ];
}

export function shortenButtons(count: number): SimButton[] {
  return DIGITS.slice(0, count).map((emoji, i) =>
    button(`MJ::Job::PromptAnalyzer::${i + 1}`, "", emoji),
  );
}

export function videoButtons(hash: string): SimButton[] {
  return [
    button(`MJ::JOB::animate_high_extend::1::${hash}`, "Extend (High motion)", "🎞️"),
    button(`MJ::JOB::animate_low_extend::1::${hash}`, "Extend (Low motion)", "🎞️"),
  ];
}

/** What clicking a button starts. `modal` = the new task waits in MODAL for /mj/submit/modal. */
export type ButtonEffect =
  | { kind: "job"; action: SimAction; index: number; modal: "no" | "code21" | "code1" }
  | { kind: "describeAll" }
  | { kind: "unknown" };

/**
 * Maps a customId to the action the NA/CometAPI gateway records (`CoverPlusActionToNormalAction`,
 * specific names before their substrings), extended to describe/shorten/animate buttons.
 * Inpaint and CustomZoom answer code 21; describe/shorten picks wait in MODAL behind a code 1,
 * because the gateway rewrites every other 21 to 1.
 */
export function buttonEffect(customId: string): ButtonEffect {
  const index = Number(customId.split("::")[3]) || 1;
  const job = (action: SimAction, modal: "no" | "code21" | "code1" = "no"): ButtonEffect => ({
    kind: "job",
    action,
    index,
    modal,
  });
  if (customId === "MJ::Job::PicReader::all") return { kind: "describeAll" };
  if (
    customId.startsWith("MJ::Job::PicReader::") ||
    customId.startsWith("MJ::Job::PromptAnalyzer::")
  ) {
    return job("IMAGINE", "code1");
  }
  if (customId === "MJ::Picread::Retry") return job("DESCRIBE");
  if (customId.includes("animate_")) return job("VIDEO");
  if (customId.includes("upsample")) return job("UPSCALE");
  if (customId.includes("low_variation")) return job("LOW_VARIATION");
  if (customId.includes("high_variation")) return job("HIGH_VARIATION");
  if (customId.includes("variation")) return job("VARIATION");
  if (customId.includes("pan_")) return job("PAN");
  if (customId.includes("reroll")) return job("REROLL");
  if (customId.includes("Outpaint")) return job("ZOOM");
  if (customId.includes("CustomZoom")) return job("CUSTOM_ZOOM", "code21");
  if (customId.includes("Inpaint")) return job("INPAINT", "code21");
  return { kind: "unknown" };
}

/** Actions whose run shows no percentages: the bot answers with the result directly. */
export function hasProgress(action: SimAction): boolean {
  return action !== "DESCRIBE" && action !== "SHORTEN";
}
