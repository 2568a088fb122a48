import { createHash } from "node:crypto";

const DIGITS = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"] as const;

const SUBJECTS = [
  "a paper boat",
  "a lighthouse",
  "a quiet harbor",
  "an origami crane",
  "a red kite",
];
const STYLES = ["watercolor", "soft morning light", "isometric illustration", "film photograph"];
const MOODS = ["calm", "dreamy", "minimal", "nostalgic", "vivid"];

/** The four prompts a describe returns for an image, stable for the same image. */
export function describePrompts(seedText: string): string[] {
  const bytes = createHash("sha256").update(seedText).digest();
  const at = <T>(list: readonly T[], i: number): T => list[(bytes[i] ?? 0) % list.length] as T;
  return [0, 1, 2, 3].map(
    (n) => `${at(SUBJECTS, n)}, ${at(STYLES, n + 4)}, ${at(MOODS, n + 8)} atmosphere --ar 1:1`,
  );
}

/** Describe's `finalPrompt`: the prompts numbered with keycap emoji, one paragraph each. */
export function numbered(prompts: readonly string[]): string {
  return prompts.map((p, i) => `${DIGITS[i] ?? `${i + 1}.`} ${p}`).join("\n\n");
}

/** The shortened prompts of a /shorten, from the longest to the shortest. */
export function shortenedPrompts(prompt: string): string[] {
  const words = prompt
    .replace(/--\S+(\s+[^-\s]\S*)?/g, " ")
    .split(/[\s,]+/)
    .filter((w) => w.length > 0);
  return [1, 0.8, 0.6, 0.45, 0.3].map((share) =>
    words.slice(0, Math.max(1, Math.round(words.length * share))).join(" "),
  );
}

/** Shorten's `finalPrompt`, in the shape Midjourney prints it. */
export function shortenReport(prompt: string, shortened: readonly string[]): string {
  const tokens = [
    ...new Set(prompt.split(/[\s,]+/).filter((w) => w.length > 3 && !w.startsWith("--"))),
  ];
  return [
    "## Important tokens",
    tokens.slice(0, 8).join(", "),
    "## Shortened prompts",
    numbered(shortened),
  ].join("\n");
}
