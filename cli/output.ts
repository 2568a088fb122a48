import type { Task } from "../client/index.ts";

/** What the CLI writes to: stdout for results, stderr for progress and errors. */
export interface Streams {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

const BAR_WIDTH = 24;

/** `[██████░░░░░░]`: one character per ~4 %. */
export function progressBar(progress: number): string {
  const filled = Math.round((Math.max(0, Math.min(100, progress)) / 100) * BAR_WIDTH);
  return `[${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}]`;
}

/**
 * Follows a task on stderr. On a terminal: one line redrawn in place (`\r`, erase line). Piped:
 * one line per change, so logs stay readable. A hand-drawn line rather than a progress-bar
 * package: it is the whole need, and the popular ones add dependencies and assume a TTY.
 */
export function createProgressLine(stream: Streams["err"], enabled: boolean) {
  const tty = Boolean(stream.isTTY);
  let last = "";
  let drawn = false;
  return {
    update(task: Task) {
      if (!enabled) return;
      const line = `${task.id}  ${task.action.padEnd(9)} ${progressBar(task.progress)} ${String(task.progress).padStart(3)}%  ${task.status}`;
      if (line === last) return;
      last = line;
      if (tty) {
        stream.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else {
        stream.write(`${line}\n`);
      }
    },
    /** Ends the redrawn line so what follows starts on its own. */
    finish() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}

const truncate = (text: string, width: number) =>
  text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;

/** A plain-text table: a header row, columns padded to their widest cell, the last one cut to fit. */
export function renderTable(headers: string[], rows: string[][], width = 120): string {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const fixed = widths.slice(0, -1).reduce((sum, w) => sum + w + 2, 0);
  const lastWidth = Math.max(10, width - fixed);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? truncate(cell, lastWidth) : cell.padEnd(widths[i] ?? 0),
      )
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** One task on one line, for tables and trees. */
export function taskCells(task: Task): string[] {
  return [
    task.id,
    task.action,
    task.status,
    `${task.progress}%`,
    task.createdAt.replace("T", " ").slice(0, 19),
    task.prompt ?? "",
  ];
}

export const TASK_HEADERS = ["ID", "ACTION", "STATUS", "PROGRESS", "CREATED", "PROMPT"];

export interface TaskNode {
  task: Task;
  children: TaskNode[];
  /** children that exist but were not read (too deep or too many) */
  more: number;
}

/** The task tree as box-drawing lines: `├── id  ACTION  STATUS`. */
export function renderTree(root: TaskNode, width = 120): string {
  const lines: string[] = [];
  const label = (t: Task) =>
    truncate(
      `${t.id}  ${t.action}  ${t.status}${t.status === "IN_PROGRESS" ? ` ${t.progress}%` : ""}${t.prompt ? `  "${t.prompt}"` : ""}`,
      width,
    );
  const walk = (node: TaskNode, prefix: string, isLast: boolean, isRoot: boolean) => {
    lines.push(
      isRoot ? label(node.task) : `${prefix}${isLast ? "└── " : "├── "}${label(node.task)}`,
    );
    const childPrefix = isRoot ? "" : `${prefix}${isLast ? "    " : "│   "}`;
    node.children.forEach((child, i) => {
      walk(child, childPrefix, i === node.children.length - 1 && node.more === 0, false);
    });
    if (node.more > 0) lines.push(`${childPrefix}└── … ${node.more} more`);
  };
  walk(root, "", true, true);
  return lines.join("\n");
}

/** The result of a task, for people: what it made and what can be clicked next. */
export function renderTask(task: Task): string {
  const lines = [`task:     ${task.id}  ${task.action}  ${task.status}  ${task.progress}%`];
  if (task.prompt) lines.push(`prompt:   ${task.prompt}`);
  if (task.parentId) lines.push(`parent:   ${task.parentId}`);
  if (task.failReason) lines.push(`reason:   ${task.failReason}`);
  if (task.imageUrl) lines.push(`image:    ${task.imageUrl}`);
  for (const url of task.imageUrls) lines.push(`image:    ${url}`);
  if (task.videoUrl) lines.push(`video:    ${task.videoUrl}`);
  task.prompts.forEach((prompt, i) => {
    lines.push(`prompt ${i + 1}: ${prompt}`);
  });
  if (task.buttons.length) {
    // as typed on a command line: a label with spaces in quotes
    const labels = task.buttons
      .map((b) => b.label || b.emoji || b.customId)
      .map((label) => (/\s/.test(label) ? `"${label}"` : label));
    lines.push(`buttons:  ${labels.join("  ")}`);
    lines.push(`next:     paperboat action ${task.id} ${labels[0]} --wait`);
  }
  return lines.join("\n");
}

/** One owner's usage as `GET /v1/usage` answers it (client/ Usage). */
interface UsageView {
  days: {
    date: string;
    jobs: Record<string, number>;
    modes: Record<string, number>;
    failed: number;
  }[];
  totals: { jobs: Record<string, number>; modes: Record<string, number>; failed: number };
}

const sumOf = (counts: Record<string, number>) =>
  Object.values(counts).reduce((sum, n) => sum + n, 0);
const listOf = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, a], [, b]) => b - a)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");

/**
 * Usage as a table of days (jobs, failures, a bar of the day's jobs against the busiest day's,
 * the jobs by action), then the totals by action and by mode.
 */
export function renderUsage(usage: UsageView, width = 120): string {
  if (usage.days.length === 0) return "No jobs in this range.";
  const busiest = Math.max(1, ...usage.days.map((day) => sumOf(day.jobs)));
  const rows = usage.days.map((day) => {
    const jobs = sumOf(day.jobs);
    const filled = Math.max(jobs > 0 ? 1 : 0, Math.round((jobs / busiest) * BAR_WIDTH));
    return [
      day.date,
      String(jobs),
      String(day.failed),
      "█".repeat(filled).padEnd(BAR_WIDTH),
      listOf(day.jobs),
    ];
  });
  const { totals } = usage;
  return [
    renderTable(["DATE", "JOBS", "FAILED", "CHART", "BY ACTION"], rows, width),
    "",
    `total:   ${sumOf(totals.jobs)} jobs, ${totals.failed} failed`,
    `actions: ${listOf(totals.jobs) || "-"}`,
    `modes:   ${listOf(totals.modes) || "-"}`,
  ].join("\n");
}
