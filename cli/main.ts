import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import {
  ApiError,
  type Client,
  ConnectionError,
  createClient,
  type Task,
  type TaskWithChildren,
} from "../client/index.ts";
import { TaskEventType } from "../functions/contract/events.ts";
import { TaskAction, TaskStatus } from "../functions/contract/task.ts";
import packageJson from "../package.json" with { type: "json" };
import {
  configPath,
  maskKey,
  type ResolvedConfig,
  resolveConfig,
  writeConfigFile,
} from "./config.ts";
import { CliError, EXIT, explain } from "./exit.ts";
import { imageArgument, saveResults } from "./files.ts";
import {
  createProgressLine,
  renderTable,
  renderTask,
  renderTree,
  renderUsage,
  type Streams,
  TASK_HEADERS,
  type TaskNode,
  taskCells,
} from "./output.ts";

interface GlobalFlags {
  url?: string;
  apiKey?: string;
  config?: string;
  json?: boolean;
  quiet?: boolean;
}

interface FollowFlags {
  wait?: boolean;
  out?: string;
  timeout?: number;
  pollInterval?: number;
  idempotencyKey?: string;
}

interface Context {
  client: Client;
  config: ResolvedConfig;
  json: boolean;
  quiet: boolean;
  streams: Streams;
  signal: AbortSignal;
}

const HELP_AFTER = `
Settings: flags beat the environment (PAPERBOAT_URL, PAPERBOAT_API_KEY), which beats the config
file (--config, else ~/.config/paperboat/config.json). The URL defaults to http://127.0.0.1:3000.
--wait follows the task's live stream (on AWS at PAPERBOAT_EVENTS_URL, the stack's \`events\`
output), and reads it every --poll-interval where there is none.

Examples:
  paperboat imagine "a paper boat at sunrise --v 6.1" --wait --out images
  paperboat action <task id> U2 --wait
  paperboat tasks --status SUCCESS
  paperboat show <task id>
  paperboat config set --url http://127.0.0.1:3000 --api-key pb_…
  paperboat admin keys create --owner carol --name "carol's laptop"   (operator: ADMIN_KEY)

Exit codes: 0 ok, 1 the task failed, 2 usage, 3 no or wrong API key, 4 not found or invalid,
5 server unreachable or upstream trouble (also: --timeout reached), 130 interrupted.`;

const positiveInt = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError(`${name} must be a whole number above 0.`);
  }
  return Number(value);
};

/** Options every job command has: follow the task, save what it made. */
function followOptions(command: Command): Command {
  return command
    .option("-w, --wait", "follow the task with a progress bar until it is finished")
    .option("-o, --out <dir>", "save the images (and video) into this folder (implies --wait)")
    .option("--timeout <seconds>", "stop waiting after this long", positiveInt("--timeout"))
    .option(
      "--poll-interval <ms>",
      "time between two reads while waiting (default 1000)",
      positiveInt("--poll-interval"),
    )
    .option("--idempotency-key <key>", "send this Idempotency-Key (default: a fresh one)");
}

function write(stream: Streams["out"], text: string) {
  stream.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Results: JSON for scripts, text for people. */
function print(ctx: Context, human: string, json: unknown) {
  write(ctx.streams.out, ctx.json ? JSON.stringify(json, null, 2) : human);
}

/** Submitted, then (with --wait or --out) followed to its end: the exit code. */
async function follow(ctx: Context, submitted: Task, flags: FollowFlags): Promise<number> {
  if (!flags.wait && !flags.out) {
    print(ctx, `${renderTask(submitted)}\nfollow:   paperboat wait ${submitted.id}`, submitted);
    return EXIT.ok;
  }
  const progress = createProgressLine(
    ctx.streams.err,
    !ctx.quiet && (!ctx.json || Boolean(ctx.streams.err.isTTY)),
  );
  let task: TaskWithChildren;
  try {
    task = await ctx.client.waitForTask(submitted.id, {
      onProgress: (t) => progress.update(t),
      until: (t) => t.status === "MODAL",
      signal: ctx.signal,
      timeoutMs: flags.timeout === undefined ? undefined : flags.timeout * 1000,
      intervalMs: flags.pollInterval,
    });
  } catch (error) {
    if (ctx.signal.aborted) {
      throw new CliError(
        EXIT.interrupted,
        "interrupted",
        `Stopped waiting; task ${submitted.id} goes on: \`paperboat wait ${submitted.id}\`.`,
      );
    }
    if (error instanceof ConnectionError) {
      // the task was accepted and goes on without us: say how to pick it up again
      throw new CliError(
        EXIT.unavailable,
        "connection_lost",
        `Lost the server at ${error.url} while waiting (${error.reason}); task ${submitted.id} goes on. When the server is back: \`paperboat wait ${submitted.id}\`.`,
      );
    }
    throw error;
  } finally {
    progress.finish();
  }

  if (task.status === "MODAL") {
    print(
      ctx,
      `${renderTask(task)}\nmodal:    it waits for you: \`paperboat modal ${task.id} [--prompt "…"]\``,
      task,
    );
    return EXIT.ok;
  }
  if (task.status !== "SUCCESS") {
    print(ctx, renderTask(task), task);
    throw new CliError(
      EXIT.failed,
      "task_failed",
      `Task ${task.id} ended in ${task.status}${task.failReason ? `: ${task.failReason}` : "."}`,
    );
  }
  const files = flags.out ? await saveResults(task, flags.out) : [];
  print(
    ctx,
    [renderTask(task), ...files.map((file) => `saved:    ${file}`)].join("\n"),
    flags.out ? { ...task, files } : task,
  );
  return EXIT.ok;
}

/** Reads a task and its descendants, oldest child first, at most `budget` tasks in all. */
async function readTree(
  client: Client,
  id: string,
  depth: number,
  budget: { left: number },
  signal: AbortSignal,
): Promise<TaskNode> {
  budget.left--;
  const task = await client.getTask(id, { signal });
  const ids = [...task.children].reverse();
  const node: TaskNode = { task, children: [], more: 0 };
  for (const childId of ids) {
    if (depth <= 0 || budget.left <= 0) {
      node.more++;
      continue;
    }
    node.children.push(await readTree(client, childId, depth - 1, budget, signal));
  }
  return node;
}

const treeJson = (node: TaskNode): unknown => ({
  ...node.task,
  children: node.children.map(treeJson),
  ...(node.more ? { moreChildren: node.more } : {}),
});

/**
 * Runs the CLI on `argv` (as process.argv) and answers the exit code. Errors never escape as
 * stack traces: each becomes one sentence on stderr (JSON with --json) and an exit code.
 */
export async function run(
  argv: string[],
  env: NodeJS.ProcessEnv,
  streams: Streams,
  signal: AbortSignal,
): Promise<number> {
  let exitCode: number = EXIT.ok;
  let resolved: ResolvedConfig | null = null;

  const program = new Command("paperboat")
    .description("Run Midjourney jobs through a paperboat server, from the terminal.")
    .version(packageJson.version)
    .option("--url <url>", "the server (env PAPERBOAT_URL)")
    .option("--api-key <key>", "your API key (env PAPERBOAT_API_KEY)")
    .option("--config <file>", "the config file (default ~/.config/paperboat/config.json)")
    .option("--json", "print JSON for scripts (errors as JSON on stderr)")
    .option("-q, --quiet", "no progress bar")
    .addHelpText("after", HELP_AFTER)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.out.write(text),
      writeErr: (text) => streams.err.write(text),
      // parse errors are reported below, as every other error
      outputError: () => {},
    });

  const globals = (): GlobalFlags => program.opts<GlobalFlags>();

  const context = (needsKey = true): Context => {
    const flags = globals();
    resolved = resolveConfig(flags, env);
    if (needsKey && !resolved.apiKey) {
      throw new CliError(
        EXIT.auth,
        "no_api_key",
        "No API key: pass --api-key, set PAPERBOAT_API_KEY, or save one with `paperboat config set --api-key <key>` (`npm start` prints the dev key).",
      );
    }
    return {
      client: createClient({
        baseUrl: resolved.url,
        apiKey: resolved.apiKey,
        // on AWS the live stream has its own URL (the stack's `events` output)
        eventsUrl: env.PAPERBOAT_EVENTS_URL || undefined,
      }),
      config: resolved,
      json: Boolean(flags.json),
      quiet: Boolean(flags.quiet),
      streams,
      signal,
    };
  };

  const job = (name: string, description: string) =>
    followOptions(program.command(name).description(description));

  job("imagine", "start an imagine job (quote the prompt: it may hold --v 6.1 and friends)")
    .argument("<prompt>", "the prompt")
    .option("--image <file...>", "image prompts: files (PNG, JPEG, GIF, WebP) or URLs")
    .option("--niji", "use the Niji bot")
    .action(async (prompt: string, flags: FollowFlags & { image?: string[]; niji?: boolean }) => {
      const ctx = context();
      const base64Array = flags.image ? await Promise.all(flags.image.map(imageArgument)) : [];
      const task = await ctx.client.imagine(
        {
          prompt,
          ...(base64Array.length ? { base64Array } : {}),
          ...(flags.niji ? { botType: "NIJI_JOURNEY" as const } : {}),
        },
        { idempotencyKey: flags.idempotencyKey, signal },
      );
      exitCode = await follow(ctx, task, flags);
    });

  job(
    "action",
    "click a button of a finished task: U1-U4, V1-V4, 🔄 (reroll), a label or a customId",
  )
    .argument("<id>", "the task")
    .argument("<button>", "the button's label, emoji or customId")
    .option("--remix", "ask for the remix modal (reroll, variation, pan)")
    .action(async (id: string, button: string, flags: FollowFlags & { remix?: boolean }) => {
      const ctx = context();
      const task = await ctx.client.clickButton(
        id,
        button,
        flags.remix ? { enableRemix: true } : {},
        { idempotencyKey: flags.idempotencyKey, signal },
      );
      exitCode = await follow(ctx, task, flags);
    });

  job("modal", "complete a task waiting in MODAL (custom zoom, vary region, remix)")
    .argument("<id>", "the task")
    .option("--prompt <text>", "the prompt (custom zoom needs --zoom <1-2> in it)")
    .option("--mask <file>", "vary region: a PNG mask, white is repainted")
    .action(async (id: string, flags: FollowFlags & { prompt?: string; mask?: string }) => {
      const ctx = context();
      const task = await ctx.client.modal(
        id,
        {
          ...(flags.prompt ? { prompt: flags.prompt } : {}),
          ...(flags.mask ? { maskBase64: await imageArgument(flags.mask) } : {}),
        },
        { idempotencyKey: flags.idempotencyKey, signal },
      );
      exitCode = await follow(ctx, task, flags);
    });

  job("blend", "blend 2 to 5 images into a grid")
    .argument("<images...>", "image files or URLs")
    .addOption(
      new Option("--dimensions <shape>", "the grid's shape").choices([
        "PORTRAIT",
        "SQUARE",
        "LANDSCAPE",
      ]),
    )
    .action(
      async (
        images: string[],
        flags: FollowFlags & { dimensions?: "PORTRAIT" | "SQUARE" | "LANDSCAPE" },
      ) => {
        const ctx = context();
        const task = await ctx.client.blend(
          {
            base64Array: await Promise.all(images.map(imageArgument)),
            ...(flags.dimensions ? { dimensions: flags.dimensions } : {}),
          },
          { idempotencyKey: flags.idempotencyKey, signal },
        );
        exitCode = await follow(ctx, task, flags);
      },
    );

  job("describe", "four prompts for one image")
    .argument("<image>", "an image file or URL")
    .action(async (image: string, flags: FollowFlags) => {
      const ctx = context();
      const value = await imageArgument(image);
      const task = await ctx.client.describe(
        value.startsWith("data:") ? { base64: value } : { link: value },
        { idempotencyKey: flags.idempotencyKey, signal },
      );
      exitCode = await follow(ctx, task, flags);
    });

  job("shorten", "shorter versions of a prompt")
    .argument("<prompt>", "the prompt")
    .action(async (prompt: string, flags: FollowFlags) => {
      const ctx = context();
      const task = await ctx.client.shorten(
        { prompt },
        { idempotencyKey: flags.idempotencyKey, signal },
      );
      exitCode = await follow(ctx, task, flags);
    });

  job("video", "animate an image")
    .argument("<image>", "an image file or URL")
    .option("--prompt <text>", "what should happen")
    .addOption(new Option("--motion <level>", "how much moves").choices(["low", "high"]))
    .option("--loop", "end where it starts")
    .action(
      async (
        image: string,
        flags: FollowFlags & { prompt?: string; motion?: "low" | "high"; loop?: boolean },
      ) => {
        const ctx = context();
        const task = await ctx.client.video(
          {
            image: await imageArgument(image),
            ...(flags.prompt ? { prompt: flags.prompt } : {}),
            ...(flags.motion ? { motion: flags.motion } : {}),
            ...(flags.loop ? { loop: true } : {}),
          },
          { idempotencyKey: flags.idempotencyKey, signal },
        );
        exitCode = await follow(ctx, task, flags);
      },
    );

  job("edit", "edit an image with Midjourney's editor")
    .argument("<image>", "an image file or URL")
    .argument("<prompt>", "what the picture should become")
    .option("--mask <file>", "what to repaint: a PNG mask, white is repainted")
    .action(async (image: string, prompt: string, flags: FollowFlags & { mask?: string }) => {
      const ctx = context();
      const task = await ctx.client.edit(
        {
          image: await imageArgument(image),
          prompt,
          ...(flags.mask ? { mask: await imageArgument(flags.mask) } : {}),
        },
        { idempotencyKey: flags.idempotencyKey, signal },
      );
      exitCode = await follow(ctx, task, flags);
    });

  job("retexture", "keep an image's shapes, redo its surfaces from a prompt")
    .argument("<image>", "an image file or URL")
    .argument("<prompt>", "the new surfaces")
    .action(async (image: string, prompt: string, flags: FollowFlags) => {
      const ctx = context();
      const task = await ctx.client.retexture(
        { image: await imageArgument(image), prompt },
        { idempotencyKey: flags.idempotencyKey, signal },
      );
      exitCode = await follow(ctx, task, flags);
    });

  program
    .command("upload")
    .description("keep an image on the server; prints a link a prompt can use (--sref <url>)")
    .argument("<file>", "a PNG, JPEG, GIF or WebP file")
    .action(async (file: string) => {
      const ctx = context();
      const image = await imageArgument(file);
      if (!image.startsWith("data:")) {
        throw new CliError(EXIT.usage, "not_a_file", "upload takes a file, not a URL.");
      }
      const upload = await ctx.client.upload(image, { signal });
      print(ctx, upload.url, upload);
    });

  program
    .command("wait")
    .description("follow a task until it is finished (progress bar), then print its results")
    .argument("<id>", "the task")
    .option("-o, --out <dir>", "save the images (and video) into this folder")
    .option("--timeout <seconds>", "stop waiting after this long", positiveInt("--timeout"))
    .option("--poll-interval <ms>", "time between two reads", positiveInt("--poll-interval"))
    .action(async (id: string, flags: FollowFlags) => {
      const ctx = context();
      const task = await ctx.client.getTask(id, { signal });
      exitCode = await follow(ctx, task, { ...flags, wait: true });
    });

  program
    .command("watch")
    .description("print each state of a task as it is recorded (its live stream), to the end")
    .argument("<id>", "the task")
    .action(async (id: string) => {
      const ctx = context();
      // one line per state: `status progress%`, or the task as one JSON line with --json
      for await (const task of ctx.client.watchTask(id, { signal })) {
        write(
          ctx.streams.out,
          ctx.json ? JSON.stringify(task) : `${task.status.padEnd(11)} ${task.progress}%`,
        );
      }
    });

  program
    .command("tasks")
    .description("your tasks, newest first, as a table")
    .addOption(new Option("--status <status>", "only this status").choices(TaskStatus.options))
    .addOption(new Option("--action <action>", "only this action").choices(TaskAction.options))
    .option("--parent <id>", "only the tasks started from this task's buttons")
    .option("-n, --limit <n>", "page size, 1 to 100 (default 20)", positiveInt("--limit"))
    .option("--cursor <cursor>", "the page after this one (printed under the table)")
    .option("--all", "every page")
    .action(
      async (flags: {
        status?: TaskStatus;
        action?: TaskAction;
        parent?: string;
        limit?: number;
        cursor?: string;
        all?: boolean;
      }) => {
        const ctx = context();
        const query = {
          status: flags.status,
          action: flags.action,
          parentId: flags.parent,
          limit: flags.limit,
          cursor: flags.cursor,
        };
        let items: Task[];
        let nextCursor: string | null = null;
        if (flags.all) {
          items = [];
          for await (const task of ctx.client.tasks(query, { signal })) items.push(task);
        } else {
          ({ items, nextCursor } = await ctx.client.listTasks(query, { signal }));
        }
        const width = streams.out.columns ?? 120;
        const human = items.length
          ? [
              renderTable(TASK_HEADERS, items.map(taskCells), width),
              ...(nextCursor ? [`more: paperboat tasks --cursor ${nextCursor}`] : []),
            ].join("\n")
          : 'No tasks yet: `paperboat imagine "a paper boat" --wait`.';
        print(ctx, human, { items, nextCursor });
      },
    );

  program
    .command("show")
    .description("a task, and the tree of tasks started from its buttons")
    .argument("<id>", "the task")
    .option("--depth <n>", "how many generations to read (default 5)", positiveInt("--depth"))
    .action(async (id: string, flags: { depth?: number }) => {
      const ctx = context();
      const tree = await readTree(ctx.client, id, flags.depth ?? 5, { left: 200 }, signal);
      const width = streams.out.columns ?? 120;
      const human = tree.children.length
        ? `${renderTask(tree.task)}\n\n${renderTree(tree, width)}`
        : renderTask(tree.task);
      print(ctx, human, treeJson(tree));
    });

  program
    .command("cancel")
    .description("cancel an unfinished task (the upstream is asked to stop it where it can)")
    .argument("<id>", "the task")
    .action(async (id: string) => {
      const ctx = context();
      const task = await ctx.client.cancel(id, { signal });
      print(ctx, renderTask(task), task);
    });

  program
    .command("usage")
    .description("your jobs per UTC day (by action and mode) and failures, with a chart")
    .option("--from <date>", "first UTC day, YYYY-MM-DD (default: 29 days before --to)")
    .option("--to <date>", "last UTC day, YYYY-MM-DD (default: today)")
    .action(async (flags: { from?: string; to?: string }) => {
      const ctx = context();
      const usage = await ctx.client.usage({ from: flags.from, to: flags.to }, { signal });
      print(ctx, renderUsage(usage, streams.out.columns ?? 120), usage);
    });

  program
    .command("seed")
    .description("the upstream's seed of a finished task")
    .argument("<id>", "the task")
    .action(async (id: string) => {
      const ctx = context();
      const seed = await ctx.client.seed(id, { signal });
      print(ctx, seed.seed, seed);
    });

  program
    .command("health")
    .description("is the server there, and each upstream? (no key needed)")
    .action(async () => {
      const ctx = context(false);
      const health = await ctx.client.health({ signal });
      // one line per upstream: its place in MJ_API_BASE_URL, id, state and why
      const lines = (health.upstreams ?? []).map((u) => {
        const why = u.reason ? ` (${u.reason})` : "";
        const until = u.retryAt ? `, retry at ${u.retryAt}` : "";
        return `upstream ${u.position} ${u.id}: ${u.state}${why}${until}`;
      });
      print(ctx, [`${ctx.config.url}: ${health.status}`, ...lines].join("\n"), health);
    });

  /** The operator's client: ADMIN_KEY from --admin-key or PAPERBOAT_ADMIN_KEY, never a file. */
  const adminContext = (command: Command) => {
    const ctx = context(false);
    const adminKey =
      command.optsWithGlobals<{ adminKey?: string }>().adminKey || env.PAPERBOAT_ADMIN_KEY;
    if (!adminKey) {
      throw new CliError(
        EXIT.auth,
        "no_admin_key",
        "No admin key: pass --admin-key or set PAPERBOAT_ADMIN_KEY (`npm start` prints the local one).",
      );
    }
    return { ...ctx, client: createClient({ baseUrl: ctx.config.url, adminKey }) };
  };
  /** A 401 here is the admin key's, not an API key's. */
  const asAdmin = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        throw new CliError(
          EXIT.auth,
          error.code,
          `The server at ${resolved?.url ?? "the server"} refused the admin key: ${error.message} Check --admin-key or PAPERBOAT_ADMIN_KEY (an owner's API key is never an admin key).`,
        );
      }
      throw error;
    }
  };

  const endpoints = program
    .command("endpoints")
    .description("account webhook endpoints: every task event of yours goes there too");
  endpoints
    .command("add")
    .description("a new endpoint; it gets the events of your tasks from now on")
    .argument("<url>", "where to POST (https; the local stack also takes http on loopback)")
    .option(
      "--events <events>",
      `comma-separated, of ${TaskEventType.options.join(", ")} (default: all but task.progress)`,
    )
    .action(async (url: string, flags: { events?: string }) => {
      const ctx = context();
      const events = flags.events?.split(",").map((e) => e.trim()) as TaskEventType[] | undefined;
      const made = await ctx.client.addWebhookEndpoint(
        { url, ...(events ? { events } : {}) },
        { signal },
      );
      print(ctx, `${made.id}  ${made.url}  ${made.events.join(",")}`, made);
    });
  endpoints
    .command("list")
    .description("your endpoints, oldest first")
    .action(async () => {
      const ctx = context();
      const items = await ctx.client.webhookEndpoints({ signal });
      const human = items.length
        ? renderTable(
            ["ID", "URL", "EVENTS"],
            items.map((e) => [e.id, e.url, e.events.join(",")]),
            streams.out.columns ?? 120,
          )
        : "No endpoints: `paperboat endpoints add <url>`.";
      print(ctx, human, { items });
    });
  endpoints
    .command("remove")
    .description("delete an endpoint: no later event goes there")
    .argument("<id>", "the endpoint's id (ep_…)")
    .action(async (id: string) => {
      const ctx = context();
      await ctx.client.removeWebhookEndpoint(id, { signal });
      print(ctx, `removed ${id}`, { id, removed: true });
    });

  const adminKeys = program
    .command("admin")
    .description("the operator's commands (ADMIN_KEY)")
    .option("--admin-key <key>", "the operator's ADMIN_KEY (env PAPERBOAT_ADMIN_KEY)")
    .command("keys")
    .description("owners' API keys kept by the server");
  adminKeys
    .command("create")
    .description("a new API key for an owner; the key is printed this once")
    .requiredOption("--owner <owner>", "whose key it is (A-Z a-z 0-9 _ . -)")
    .option("--name <name>", "a label for people, e.g. the machine it goes on")
    .action(async (flags: { owner: string; name?: string }, command: Command) => {
      const ctx = adminContext(command);
      const created = await asAdmin(() =>
        ctx.client.createKey(
          { owner: flags.owner, ...(flags.name !== undefined ? { name: flags.name } : {}) },
          { signal },
        ),
      );
      print(
        ctx,
        [
          `key:     ${created.key}`,
          `id:      ${created.id}`,
          `owner:   ${created.owner}`,
          `name:    ${created.name ?? "-"}`,
          "Keep the key now: it is shown this once (the server keeps only its hash).",
        ].join("\n"),
        created,
      );
    });
  adminKeys
    .command("list")
    .description("the keys, of one owner or all (never the keys themselves)")
    .option("--owner <owner>", "only this owner's keys")
    .action(async (flags: { owner?: string }, command: Command) => {
      const ctx = adminContext(command);
      const items = await asAdmin(() => ctx.client.listKeys({ owner: flags.owner }, { signal }));
      const width = streams.out.columns ?? 120;
      const human = items.length
        ? renderTable(
            ["ID", "OWNER", "CREATED", "LAST USED", "NAME"],
            items.map((k) => [k.id, k.owner, k.createdAt, k.lastUsedAt ?? "never", k.name ?? ""]),
            width,
          )
        : "No keys: `paperboat admin keys create --owner <owner>`.";
      print(ctx, human, { items });
    });
  adminKeys
    .command("revoke")
    .description("revoke a key: refused everywhere within 30 s")
    .argument("<id>", "the key's id (key_…)")
    .action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = adminContext(command);
      await asAdmin(() => ctx.client.revokeKey(id, { signal }));
      print(ctx, `revoked ${id} (refused everywhere within 30 s)`, { id, revoked: true });
    });

  const config = program
    .command("config")
    .description("where the CLI finds the server and your key");
  config
    .command("show", { isDefault: true })
    .description("the settings in use and where each comes from (the key masked)")
    .option("--check", "also ask the server whether it takes the key")
    .action(async (flags: { check?: boolean }) => {
      const ctx = context(false);
      const { url, apiKey, sources, file } = ctx.config;
      const shown = {
        url,
        urlFrom: sources.url,
        apiKey: apiKey ? maskKey(apiKey) : null,
        apiKeyFrom: sources.apiKey,
        configFile: file,
      };
      let check = "";
      if (flags.check) {
        if (!apiKey) throw new CliError(EXIT.auth, "no_api_key", "No API key is set.");
        await ctx.client.listTasks({ limit: 1 }, { signal });
        check = "\ncheck:   the server takes this key";
      }
      print(
        ctx,
        [
          `url:     ${url}  (from ${sources.url})`,
          `api key: ${apiKey ? `${maskKey(apiKey)}  (from ${sources.apiKey})` : "none"}`,
          `file:    ${file}`,
        ].join("\n") + check,
        flags.check ? { ...shown, keyAccepted: true } : shown,
      );
    });
  config
    .command("set")
    .description("save --url and/or --api-key in the config file")
    .action(() => {
      const flags = globals();
      if (!flags.url && !flags.apiKey) {
        throw new CliError(
          EXIT.usage,
          "usage",
          "Nothing to save: give --url and/or --api-key, e.g. `paperboat config set --api-key pb_…`.",
        );
      }
      const file = configPath(flags.config, env);
      const saved = writeConfigFile(file, {
        ...(flags.url ? { url: flags.url } : {}),
        ...(flags.apiKey ? { apiKey: flags.apiKey } : {}),
      });
      const ctx = context(false);
      print(ctx, `saved ${file}`, {
        configFile: file,
        url: saved.url ?? null,
        apiKey: saved.apiKey ? maskKey(saved.apiKey) : null,
      });
    });
  config
    .command("path")
    .description("where the config file is")
    .action(() => {
      const ctx = context(false);
      print(ctx, ctx.config.file, { configFile: ctx.config.file });
    });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    let failure: CliError;
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.exitCode === 0
      ) {
        return EXIT.ok;
      }
      // no command at all: commander has shown the help on stderr
      if (error.code === "commander.help") return EXIT.usage;
      const hint =
        error.code === "commander.unknownOption" || error.code === "commander.excessArguments"
          ? ' Quote the prompt when it holds options: paperboat imagine "a boat --v 6.1".'
          : "";
      failure = new CliError(
        EXIT.usage,
        "usage",
        `${error.message.replace(/^error: /, "")}.${hint} See \`paperboat --help\`.`.replace(
          /\.\./g,
          ".",
        ),
      );
    } else {
      failure = explain(error, { url: (resolved as ResolvedConfig | null)?.url ?? "the server" });
    }
    const json = argv.includes("--json");
    if (json) {
      streams.err.write(
        `${JSON.stringify({
          error: {
            code: failure.code,
            message: failure.message,
            ...(failure.details.length ? { details: failure.details } : {}),
            exitCode: failure.exitCode,
          },
        })}\n`,
      );
    } else {
      const details = failure.details.map((d) => `\n  ${d.path}: ${d.message}`).join("");
      streams.err.write(`paperboat: ${failure.message}${details}\n`);
    }
    return failure.exitCode;
  }
}
