// The paperboat gallery: one plain ES module, no framework, no build beyond minification
// (functions/gallery/build.ts). It talks to the same-origin HTTP API with the user's key.
//
// Safety: everything that comes from the API (prompts, fail reasons, metadata, URLs) reaches the
// page only as text (textContent, attribute values) or as a checked http(s) URL, never as HTML.
// The page's Content-Security-Policy enforces it: no inline script, and Trusted Types with no
// policy, so any assignment of a string to innerHTML would throw.

const KEY_NAME = "paperboat.apiKey";
const PAGE_SIZE = 24;
/**
 * Poll this often while a task runs (slower after a minute without any change: a task whose
 * webhooks were lost waits for the reconciler), and this often when nothing runs.
 */
const BUSY_POLL_MS = 1500;
const SLOW_BUSY_POLL_MS = 5000;
const QUIET_POLLS_BEFORE_SLOWING = 40;
const IDLE_POLL_MS = 10_000;
/** After a failed poll (server unreachable), try again this soon. */
const RETRY_POLL_MS = 3000;
/** Tasks in the tree of the open task, at most (each is one GET). */
const MAX_TREE_NODES = 60;
const FINISHED = new Set(["SUCCESS", "FAILURE", "CANCEL"]);

const STATUS_LABELS = {
  NOT_START: "Not started",
  SUBMITTED: "Submitted",
  MODAL: "Waiting for input",
  IN_PROGRESS: "In progress",
  SUCCESS: "Succeeded",
  FAILURE: "Failed",
  CANCEL: "Cancelled",
};

const ACTION_LABELS = {
  IMAGINE: "Imagine",
  UPSCALE: "Upscale",
  VARIATION: "Variation",
  LOW_VARIATION: "Subtle variation",
  HIGH_VARIATION: "Strong variation",
  REROLL: "Reroll",
  ZOOM: "Zoom out",
  CUSTOM_ZOOM: "Custom zoom",
  PAN: "Pan",
  INPAINT: "Vary region",
  VIDEO: "Video",
  DESCRIBE: "Describe",
  BLEND: "Blend",
  SHORTEN: "Shorten",
  ACTION: "Action",
};

// ---------------------------------------------------------------------------------------------
// DOM helpers: elements are built with properties and text nodes only.

/** @param {string} id */
function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`missing #${id}`);
  return element;
}

/**
 * An element with properties (className, hidden, type...), attributes (`attrs`) and children
 * (nodes, or strings that become text nodes).
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {(Node | string | null | undefined | false)[]} [children]
 */
function h(tag, props = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "attrs") {
      for (const [attr, attrValue] of Object.entries(/** @type {object} */ (value))) {
        element.setAttribute(attr, String(attrValue));
      }
    } else {
      // @ts-expect-error: plain property assignment (className, type, hidden, ...)
      element[name] = value;
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return element;
}

/** Only http(s) URLs reach src/href: a `javascript:` or `data:` URL from a task is dropped. */
function safeUrl(value) {
  if (typeof value !== "string" || value === "") return null;
  try {
    const url = new URL(value, document.baseURI);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** Keeps `parent`'s children equal to `wanted`, moving only what is out of place (keeps focus). */
function syncChildren(parent, wanted) {
  let cursor = parent.firstChild;
  for (const node of wanted) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
      continue;
    }
    parent.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/** Sets an image's source only when it changed (no reload, no flicker). */
function setImage(img, url) {
  const src = safeUrl(url);
  if (!src) {
    img.hidden = true;
    img.removeAttribute("src");
    return;
  }
  if (img.getAttribute("src") !== src) {
    img.classList.remove("broken");
    img.src = src;
  }
  img.hidden = img.classList.contains("broken");
}

function shorten(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/**
 * What a card or a tree node shows: the small thumbnail of the durable copies once they exist
 * (its link outlives the upstream's), else the result itself.
 */
function thumbnailUrl(task) {
  const thumbnail = (task.images ?? []).find((image) => image.kind === "thumbnail");
  return thumbnail?.url ?? task.imageUrl ?? task.imageUrls?.[0] ?? null;
}

const statusLabel = (status) => STATUS_LABELS[status] ?? status;
const actionLabel = (action) => ACTION_LABELS[action] ?? action;
const isFinished = (task) => FINISHED.has(task.status);

/** What a task is called in messages: its prompt, else its action. */
function taskName(task) {
  return task.prompt ? `“${shorten(task.prompt, 60)}”` : actionLabel(task.action);
}

/** A button's visible text and its accessible name (emoji-only buttons get words). */
function buttonNames(button) {
  const text = [button.emoji, button.label].filter(Boolean).join(" ") || button.customId;
  const id = button.customId;
  const rules = [
    [/reroll|Picread::Retry/i, "Reroll"],
    [/pan_left/, "Pan left"],
    [/pan_right/, "Pan right"],
    [/pan_up/, "Pan up"],
    [/pan_down/, "Pan down"],
    [/(PicReader|PromptAnalyzer)::(\d)/, (m) => `Imagine prompt ${m[2]}`],
  ];
  let name = button.label || text;
  if (!button.label) {
    for (const [pattern, label] of rules) {
      const match = pattern.exec(id);
      if (match) {
        name = typeof label === "function" ? label(match) : label;
        break;
      }
    }
  }
  return { text, name };
}

let announceTimer = 0;
/** Says `message` to screen readers (the polite live region). */
function announce(message) {
  const region = $("announcer");
  clearTimeout(announceTimer);
  region.textContent = "";
  announceTimer = window.setTimeout(() => {
    region.textContent = message;
  }, 50);
}

// ---------------------------------------------------------------------------------------------
// The API: same origin, `Authorization: Bearer <key>`, the contract's error bodies.

class ApiError extends Error {
  /**
   * @param {number} status 0 when the server could not be reached
   * @param {string} code the contract's code, or "unreachable" / "bad_answer"
   * @param {string} message a sentence for people
   */
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = extra.details ?? [];
    this.retryAfter = extra.retryAfter ?? null;
    this.task = extra.task ?? null;
  }

  /** The message with the contract's field details, for showing. */
  describe() {
    const details = this.details
      .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message))
      .join("; ");
    const wait = this.retryAfter ? ` Try again in ${this.retryAfter} s.` : "";
    return `${this.message}${details ? ` (${details})` : ""}${wait}`;
  }
}

function serverName() {
  return new URL(".", document.baseURI).href;
}

function unreachableSentence() {
  return `Cannot reach the paperboat server at ${serverName()}. Check that it is running (npm start) and that this computer is online, then try again.`;
}

/** A fresh Idempotency-Key (getRandomValues works on plain-http LAN addresses too). */
function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `gallery-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * Calls the API. Resolves with the JSON answer of a 2xx; rejects with an ApiError that carries
 * the contract's message, or a sentence of ours when there was no such answer.
 */
async function call(method, path, body, headers = {}) {
  const key = state.key;
  let response;
  try {
    response = await fetch(new URL(path, document.baseURI), {
      method,
      cache: "no-store",
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "unreachable", unreachableSentence());
  }
  let json = null;
  try {
    json = await response.json();
  } catch {
    // not JSON: handled below
  }
  if (response.ok && json !== null) return json;
  const error = json?.error;
  if (error && typeof error.message === "string") {
    const apiError = new ApiError(response.status, String(error.code), error.message, {
      details: Array.isArray(error.details) ? error.details : [],
      retryAfter: response.headers.get("retry-after"),
      task: json.task ?? null,
    });
    if (apiError.status === 401 && key === state.key) signOut(apiError.message);
    throw apiError;
  }
  throw new ApiError(
    response.status,
    "bad_answer",
    `The server answered ${response.status} ${response.statusText || ""}`.trim() +
      " without paperboat's JSON. A proxy in between may be failing; try again in a moment.",
  );
}

// ---------------------------------------------------------------------------------------------
// State

const state = {
  /** the API key, or null when signed out */
  key: /** @type {string | null} */ (null),
  filter: "",
  /** every task seen, by id (list items lack `children`; details have them) */
  tasks: new Map(),
  /** details (GET /v1/tasks/{id}) by id, with `children` */
  details: new Map(),
  /** the grid's task ids, newest first */
  order: /** @type {string[]} */ ([]),
  /** nextCursor after the pages loaded so far */
  cursor: /** @type {string | null} */ (null),
  pagesLoaded: 0,
  /** whether the usage panel has been read since sign-in, and must be read again next poll */
  usageShown: false,
  usageAgain: false,
  /** the task shown in the dialog */
  openId: /** @type {string | null} */ (null),
  rootId: /** @type {string | null} */ (null),
  /** the prompt and Idempotency-Key of an imagine whose answer never came (reused on retry) */
  pendingImagine: /** @type {{ prompt: string; key: string } | null} */ (null),
  /** the key's owner, once a task shows it */
  owner: /** @type {string | null} */ (null),
  reachable: true,
  timer: 0,
  polling: false,
  /** a task changed since the last poll; polls in a row without any change */
  changed: false,
  quietPolls: 0,
  pollAgain: false,
  /** bumps on sign-out and filter changes: answers of older requests are dropped */
  epoch: 0,
};

function readStoredKey() {
  try {
    return sessionStorage.getItem(KEY_NAME) ?? localStorage.getItem(KEY_NAME);
  } catch {
    return null;
  }
}

function storeKey(key, remember) {
  try {
    sessionStorage.setItem(KEY_NAME, key);
    if (remember) localStorage.setItem(KEY_NAME, key);
    else localStorage.removeItem(KEY_NAME);
  } catch {
    // storage disabled: the key lives in memory for this page only
  }
}

function forgetKey() {
  try {
    sessionStorage.removeItem(KEY_NAME);
    localStorage.removeItem(KEY_NAME);
  } catch {
    // nothing stored
  }
}

/** Records a task; announces a change of status of one seen before. */
function upsertTask(task) {
  const before = state.tasks.get(task.id);
  if (!state.owner && task.owner) {
    state.owner = task.owner;
    setText($("session-label"), `Signed in as ${task.owner}`);
  }
  if (!before || before.updatedAt !== task.updatedAt) {
    state.changed = true;
    state.quietPolls = 0;
  }
  state.tasks.set(task.id, task);
  if ("children" in task) state.details.set(task.id, task);
  else {
    const detail = state.details.get(task.id);
    if (detail && detail.updatedAt !== task.updatedAt) state.details.delete(task.id);
  }
  if (before && before.status !== task.status) {
    if (task.status === "SUCCESS")
      announce(`${actionLabel(task.action)} ${taskName(task)} is done.`);
    else if (task.status === "FAILURE") {
      announce(`${actionLabel(task.action)} ${taskName(task)} failed: ${failText(task)}`);
    } else if (task.status === "MODAL") announce(`${taskName(task)} waits for input.`);
  }
  return task;
}

function failText(task) {
  return task.failReason || "the upstream gave no reason.";
}

// ---------------------------------------------------------------------------------------------
// Signing in and out

async function signIn(key, remember) {
  state.key = key;
  state.epoch++;
  // one cheap authenticated read tells whether the key is valid (and shows the newest tasks)
  await loadFirstPage(true);
  storeKey(key, remember);
  showWorkspace();
  schedulePoll(0);
}

function showWorkspace() {
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
  $("session").hidden = false;
}

/** Back to the sign-in form, with `reason` (the contract's 401 message) when the key failed. */
function signOut(reason) {
  state.key = null;
  state.owner = null;
  setText($("session-label"), "Signed in");
  state.epoch++;
  forgetKey();
  clearTimeout(state.timer);
  stopStreams();
  state.tasks.clear();
  state.details.clear();
  state.order = [];
  state.cursor = null;
  state.pagesLoaded = 0;
  state.usageShown = false;
  $("usage-days").replaceChildren();
  setText($("usage-summary"), "");
  cards.clear();
  treeNodes.clear();
  $("grid").replaceChildren();
  const dialog = /** @type {HTMLDialogElement} */ ($("task-dialog"));
  if (dialog.open) dialog.close();
  showBanner(null);
  $("workspace").hidden = true;
  $("session").hidden = true;
  $("sign-in").hidden = false;
  setText($("sign-in-error"), reason ?? "");
  const input = /** @type {HTMLInputElement} */ ($("api-key"));
  input.value = "";
  input.focus();
}

// ---------------------------------------------------------------------------------------------
// The grid

/** @type {Map<string, ReturnType<typeof createCard>>} */
const cards = new Map();

function createCard(id) {
  const img = h("img", { alt: "", decoding: "async", loading: "lazy", width: 256, height: 256 });
  // visual only: the card's text already says what the placeholder shows
  const placeholder = h("span", { className: "placeholder", attrs: { "aria-hidden": "true" } });
  const badge = h("span", { className: "badge" });
  const action = h("span", { className: "action" });
  const prompt = h("span", { className: "prompt" });
  const fail = h("span", { className: "fail-short" });
  const progress = h("progress", { max: 100, value: 0 });
  const open = h("button", { type: "button", className: "card-open" }, [
    h("span", { className: "thumb" }, [img, placeholder]),
    // the button's name is its visible text: prompt, action, status, fail reason
    h("span", { className: "card-text" }, [
      prompt,
      h("span", { className: "card-meta" }, [action, badge]),
      fail,
      progress,
    ]),
  ]);
  open.addEventListener("click", () => openTask(id));
  img.addEventListener("error", () => {
    img.classList.add("broken");
    img.hidden = true;
    setText(placeholder, "Image unavailable (its link may have expired)");
  });
  const li = h("li", { className: "card" }, [open]);
  li.dataset.id = id;
  return { li, img, placeholder, badge, action, prompt, fail, progress, open };
}

function updateCard(card, task) {
  card.li.dataset.status = task.status;
  setText(card.action, actionLabel(task.action));
  const running = runs(task);
  setText(
    card.badge,
    running ? `${statusLabel(task.status)} ${task.progress} %` : statusLabel(task.status),
  );
  card.badge.dataset.status = task.status;
  setText(card.prompt, task.prompt ? shorten(task.prompt, 140) : "(no prompt)");
  card.fail.hidden = task.status !== "FAILURE";
  setText(card.fail, task.status === "FAILURE" ? `Failed: ${failText(task)}` : "");
  card.progress.hidden = !running;
  card.progress.value = task.progress;
  card.progress.setAttribute("aria-label", `Progress ${task.progress} %`);
  // the placeholder sits behind the image: it shows until the image has painted, or if it breaks
  const image = thumbnailUrl(task);
  setImage(card.img, image);
  setText(
    card.placeholder,
    !safeUrl(image)
      ? placeholderText(task)
      : card.img.classList.contains("broken")
        ? "Image unavailable (its link may have expired)"
        : "Loading image…",
  );
}

function placeholderText(task) {
  if (task.status === "FAILURE") return "Failed";
  if (task.status === "CANCEL") return "Cancelled";
  if (task.status === "MODAL") return "Waiting for input";
  if (task.status === "SUCCESS") return task.videoUrl ? "Video" : "No image";
  return task.progress > 0 ? `${task.progress} %` : statusLabel(task.status);
}

function matchesFilter(task) {
  return !state.filter || task.status === state.filter;
}

function renderGrid() {
  const wanted = [];
  for (const id of state.order) {
    const task = state.tasks.get(id);
    if (!task) continue;
    let card = cards.get(id);
    if (!card) {
      card = createCard(id);
      cards.set(id, card);
    }
    updateCard(card, task);
    wanted.push(card.li);
  }
  for (const id of cards.keys()) if (!state.order.includes(id)) cards.delete(id);
  syncChildren($("grid"), wanted);
  /** @type {HTMLButtonElement} */ ($("load-more")).hidden = !state.cursor;
  const empty = state.order.length === 0;
  setText(
    $("list-status"),
    empty
      ? state.filter
        ? `No tasks with status “${statusLabel(state.filter)}”.`
        : "No tasks yet: write a prompt above and press Imagine."
      : "",
  );
}

/** Puts tasks into the grid (newest first: ids are ULIDs, which sort by time). */
function mergeIntoGrid(tasks, { reset = false } = {}) {
  for (const task of tasks) upsertTask(task);
  const ids = new Set(reset ? [] : state.order);
  for (const task of tasks) ids.add(task.id);
  state.order = [...ids]
    .filter((id) => {
      const task = state.tasks.get(id);
      return task && matchesFilter(task);
    })
    .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
}

function listPath(cursor) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (state.filter) query.set("status", state.filter);
  if (cursor) query.set("cursor", cursor);
  return `v1/tasks?${query}`;
}

/**
 * The first page: on sign-in and filter changes (`reset`), and on every poll (which renders
 * once everything is read, so the grid and the dialog never show two different moments).
 */
async function loadFirstPage(reset, render = true) {
  const epoch = state.epoch;
  const page = await call("GET", listPath(null));
  if (epoch !== state.epoch) return;
  mergeIntoGrid(page.items, { reset });
  if (reset || state.pagesLoaded <= 1) {
    state.cursor = page.nextCursor;
    state.pagesLoaded = 1;
  }
  if (render) renderGrid();
}

async function loadMore() {
  if (!state.cursor) return;
  const button = /** @type {HTMLButtonElement} */ ($("load-more"));
  button.disabled = true;
  const epoch = state.epoch;
  try {
    const page = await call("GET", listPath(state.cursor));
    if (epoch !== state.epoch) return;
    mergeIntoGrid(page.items);
    state.cursor = page.nextCursor;
    state.pagesLoaded++;
    renderGrid();
    setReachable(true);
  } catch (error) {
    showListError(error);
  } finally {
    button.disabled = false;
  }
}

function showListError(error) {
  if (!(error instanceof ApiError)) throw error;
  if (error.status === 401) return;
  if (error.code === "unreachable") setReachable(false);
  else setText($("list-status"), error.describe());
}

// ---------------------------------------------------------------------------------------------
// Polling: one loop refreshes the grid's first page, unfinished tasks further down, and the open
// task's tree. Fast while something runs, slow when nothing does, paused in a hidden tab.

function schedulePoll(delay) {
  clearTimeout(state.timer);
  if (!state.key) return;
  state.timer = window.setTimeout(poll, delay);
}

/** A task that can change by itself (not finished, and not waiting for its owner's modal). */
const runs = (task) => task && !isFinished(task) && task.status !== "MODAL";

function somethingRuns() {
  return (
    state.order.some((id) => runs(state.tasks.get(id))) ||
    treeIds().some((id) => runs(state.tasks.get(id)))
  );
}

function busyDelay() {
  return state.quietPolls > QUIET_POLLS_BEFORE_SLOWING ? SLOW_BUSY_POLL_MS : BUSY_POLL_MS;
}

async function poll() {
  if (!state.key) return;
  if (state.polling) {
    state.pollAgain = true;
    return;
  }
  if (document.hidden) {
    schedulePoll(IDLE_POLL_MS);
    return;
  }
  state.polling = true;
  let delay = IDLE_POLL_MS;
  try {
    await loadFirstPage(false, false);
    await refreshUnfinishedBelow();
    // when nothing runs, also re-read finished tasks with buttons: children started elsewhere
    if (state.openId) await loadTree(!somethingRuns());
    renderGrid();
    renderDialog();
    setReachable(true);
    // and once more on the poll after a change: a finished task's counters are written just
    // after its status, so the poll that sees the status may still read the old counts
    if (state.changed || !state.usageShown || state.usageAgain) {
      state.usageAgain = state.changed;
      await loadUsage();
      await loadUpstreams();
    }
    if (!state.changed) state.quietPolls++;
    // a change seen by this poll or by a stream since the last one counts once
    state.changed = false;
    watchRunning();
    delay = somethingRunsUnwatched() ? busyDelay() : IDLE_POLL_MS;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) return;
    if (error.code === "unreachable") setReachable(false);
    else showBanner(`Could not refresh the tasks: ${error.describe()}`);
    delay = RETRY_POLL_MS;
  } finally {
    state.polling = false;
  }
  if (state.pollAgain) {
    state.pollAgain = false;
    delay = 0;
  }
  schedulePoll(delay);
}

// ---------------------------------------------------------------------------------------------
// Live progress: each running task on screen follows GET /v1/tasks/{id}/events, read with fetch
// (EventSource cannot send the Authorization header). A task whose stream cannot be had (an
// older server, a proxy) is polled as before, and polling slows down while every running task
// streams.

/** Streams open at once, at most: over HTTP/1.1 a browser opens 6 connections per server. */
const MAX_STREAMS = 4;
/** @type {Map<string, AbortController>} */
const streams = new Map();
/** Tasks whose stream failed: polled until they finish. */
const unstreamable = new Set();

const STATUS_RANK = { NOT_START: 0, SUBMITTED: 1000, MODAL: 1500, IN_PROGRESS: 2000 };
/** The order of a task's states (the server's rank): status first, then progress. */
function rankOf(task) {
  const rank = STATUS_RANK[task.status];
  if (rank === undefined) return 3100;
  return task.status === "IN_PROGRESS" ? rank + task.progress : rank;
}

/**
 * The events of a text/event-stream body: `{ data, id }` per event, `retry:` to `onRetry`;
 * comment lines (keep-alives) and blocks without data are skipped.
 */
async function* readEvents(body, onRetry) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data = [];
  let id = null;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      // a CR at the very end may be the first half of a CRLF: keep it for the next chunk
      const held = buffer.endsWith("\r") ? "\r" : "";
      const lines = buffer.slice(0, buffer.length - held.length).split(/\r\n|\r|\n/);
      buffer = (lines.pop() ?? "") + held;
      for (const line of lines) {
        if (line === "") {
          if (data.length > 0) yield { data: data.join("\n"), id };
          data = [];
          continue;
        }
        const colon = line.indexOf(":");
        if (colon === 0) continue;
        const field = colon === -1 ? line : line.slice(0, colon);
        const text = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(text);
        else if (field === "id") id = text;
        else if (field === "retry" && /^\d+$/.test(text)) onRetry(Number(text));
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Opens a stream for running tasks on screen that have none, up to MAX_STREAMS. */
function watchRunning() {
  if (!state.key || document.hidden) return;
  for (const id of [...state.order, ...treeIds()]) {
    if (streams.size >= MAX_STREAMS) return;
    if (streams.has(id) || unstreamable.has(id) || !runs(state.tasks.get(id))) continue;
    follow(id);
  }
}

/** Whether some running task on screen has no stream (the grid then polls at its busy pace). */
function somethingRunsUnwatched() {
  return [...state.order, ...treeIds()].some((id) => runs(state.tasks.get(id)) && !streams.has(id));
}

/** Follows one task's stream to its end; resumes with Last-Event-ID, gives up after 3 drops. */
async function follow(id) {
  const controller = new AbortController();
  streams.set(id, controller);
  const epoch = state.epoch;
  let lastId = null;
  let failures = 0;
  try {
    while (failures < 3 && epoch === state.epoch) {
      let retry = BUSY_POLL_MS;
      try {
        const response = await fetch(new URL(`v1/tasks/${id}/events`, document.baseURI), {
          cache: "no-store",
          headers: {
            authorization: `Bearer ${state.key}`,
            ...(lastId ? { "last-event-id": lastId } : {}),
          },
          signal: controller.signal,
        });
        const type = response.headers.get("content-type") ?? "";
        if (!response.ok || !type.startsWith("text/event-stream") || !response.body) break;
        for await (const event of readEvents(response.body, (ms) => {
          retry = ms;
        })) {
          if (epoch !== state.epoch) return;
          lastId = event.id ?? lastId;
          failures = 0;
          const task = JSON.parse(event.data);
          const before = state.tasks.get(id);
          // a stream starts from the task's first state: skip those the page already shows
          if (before && rankOf(task) < rankOf(before)) continue;
          upsertTask(task);
          renderGrid();
          if (state.openId) renderDialog();
          if (!runs(task)) {
            // finished (or waiting for its owner): the next poll brings usage and children
            schedulePoll(0);
            return;
          }
        }
      } catch {
        if (controller.signal.aborted) return;
        failures++;
      }
      await new Promise((resolve) => setTimeout(resolve, retry));
    }
    unstreamable.add(id);
  } finally {
    if (streams.get(id) === controller) streams.delete(id);
    if (epoch === state.epoch) watchRunning();
  }
}

/** Closes every stream (sign-out). */
function stopStreams() {
  for (const controller of streams.values()) controller.abort();
  streams.clear();
  unstreamable.clear();
}

const USAGE_DAYS = 7;

/** `{IMAGINE: 3, UPSCALE: 1}` → "3 imagine, 1 upscale" (largest first). */
function countsText(counts) {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${n} ${name.toLowerCase()}`)
    .join(", ");
}

/**
 * The owner's jobs per UTC day over the last week (GET /v1/usage): one line a day with a bar
 * (a <meter>, no inline style) and the jobs by action. Read on sign-in and when tasks change;
 * a failure to read it says so in the panel and never stops the grid's polling.
 */
async function loadUsage() {
  const epoch = state.epoch;
  const day = (ms) => new Date(ms).toISOString().slice(0, 10);
  const now = Date.now();
  const dates = Array.from({ length: USAGE_DAYS }, (_, i) =>
    day(now - (USAGE_DAYS - 1 - i) * 86_400_000),
  );
  let usage;
  try {
    usage = await call("GET", `/v1/usage?from=${dates[0]}&to=${dates[USAGE_DAYS - 1]}`);
  } catch (error) {
    if (epoch !== state.epoch || !(error instanceof ApiError) || error.status === 401) return;
    setText($("usage-summary"), `Usage could not be read: ${error.describe()}`);
    return;
  }
  if (epoch !== state.epoch) return;
  state.usageShown = true;
  const byDate = new Map(usage.days.map((d) => [d.date, d]));
  const total = (d) => Object.values(d?.jobs ?? {}).reduce((a, b) => a + b, 0);
  const most = Math.max(1, ...dates.map((date) => total(byDate.get(date))));
  const jobs = total(usage.totals);
  setText(
    $("usage-summary"),
    jobs === 0
      ? "No jobs in the last 7 days."
      : `${jobs} job${jobs === 1 ? "" : "s"} (${countsText(usage.totals.jobs)}), ${usage.totals.failed} failed.`,
  );
  $("usage-days").replaceChildren(
    ...dates.map((date) => {
      const d = byDate.get(date);
      const n = total(d);
      const label = `${date}: ${n} job${n === 1 ? "" : "s"}${d?.failed ? `, ${d.failed} failed` : ""}`;
      return h("li", {}, [
        h("span", { className: "usage-date" }, [date.slice(5)]),
        h("meter", { min: 0, max: most, value: n, attrs: { "aria-label": label } }),
        h("span", { className: "usage-count" }, [n === 0 ? "–" : countsText(d?.jobs ?? {})]),
      ]);
    }),
  );
}

/**
 * Each upstream's state (GET /health, docs/upstreams.md "Several upstreams"): one line each,
 * its place in the list, its id and its state, with why and until when it is skipped. Read
 * with the usage; a failure only says so in the panel.
 */
async function loadUpstreams() {
  const epoch = state.epoch;
  let health;
  try {
    health = await call("GET", "health");
  } catch (error) {
    if (epoch !== state.epoch || !(error instanceof ApiError)) return;
    $("upstreams").replaceChildren(h("li", {}, [`Could not be read: ${error.describe()}`]));
    return;
  }
  if (epoch !== state.epoch) return;
  $("upstreams").replaceChildren(
    ...(health.upstreams ?? []).map((u) => {
      const why = u.reason ? ` (${u.reason})` : "";
      const until = u.retryAt ? `, tried again at ${new Date(u.retryAt).toLocaleTimeString()}` : "";
      return h("li", { className: `upstream upstream-${u.state}` }, [
        h("span", { className: "upstream-state" }, [u.state]),
        ` ${u.position}. ${u.id}${why}${until}`,
      ]);
    }),
  );
}

/** Unfinished tasks that are in the grid but no longer on the first page. */
async function refreshUnfinishedBelow() {
  const firstPage = new Set(state.order.slice(0, PAGE_SIZE));
  const stale = state.order
    .filter((id) => !firstPage.has(id) && runs(state.tasks.get(id)))
    .slice(0, 12);
  const epoch = state.epoch;
  const tasks = await Promise.all(stale.map((id) => call("GET", `v1/tasks/${id}`)));
  if (epoch !== state.epoch) return;
  mergeIntoGrid(tasks);
}

function setReachable(reachable) {
  if (reachable && !state.reachable) announce("Connection to the server restored.");
  state.reachable = reachable;
  showBanner(
    reachable
      ? null
      : `Lost the connection: cannot reach the paperboat server at ${serverName()}. Retrying every few seconds…`,
  );
}

function showBanner(message) {
  const banner = $("banner");
  banner.hidden = !message;
  setText(banner, message ?? "");
}

// ---------------------------------------------------------------------------------------------
// Submitting a prompt

async function imagine(event) {
  event.preventDefault();
  const textarea = /** @type {HTMLTextAreaElement} */ ($("prompt"));
  const button = /** @type {HTMLButtonElement} */ ($("imagine-button"));
  const prompt = textarea.value;
  setText($("imagine-error"), "");
  // the same prompt sent again after a lost answer reuses its key: never two jobs for one click
  const pending = state.pendingImagine;
  const key = pending && pending.prompt === prompt ? pending.key : newIdempotencyKey();
  state.pendingImagine = { prompt, key };
  button.disabled = true;
  setText($("imagine-status"), "Sending…");
  try {
    const task = await call("POST", "v1/imagine", { prompt }, { "idempotency-key": key });
    state.pendingImagine = null;
    textarea.value = "";
    setText(
      $("imagine-status"),
      `Started: ${taskName(task)} is ${statusLabel(task.status).toLowerCase()}.`,
    );
    mergeIntoGrid([task]);
    renderGrid();
    // follow it live from its first step
    watchRunning();
    schedulePoll(BUSY_POLL_MS);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    setText($("imagine-status"), "");
    if (error.code !== "unreachable") state.pendingImagine = null;
    if (error.status === 401) return;
    setText($("imagine-error"), error.describe());
    // a refused job is recorded as a FAILURE task: show it in the grid too
    if (error.task) {
      mergeIntoGrid([error.task]);
      renderGrid();
    }
    if (error.code === "unreachable") setReachable(false);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// The task dialog: one task, its buttons, and its tree (root → children, recursively)

const dialog = () => /** @type {HTMLDialogElement} */ ($("task-dialog"));
/** @type {Map<string, ReturnType<typeof createTreeNode>>} */
const treeNodes = new Map();
let opener = /** @type {HTMLElement | null} */ (null);

async function openTask(id) {
  const switching = dialog().open;
  if (!switching) opener = /** @type {HTMLElement | null} */ (document.activeElement);
  state.openId = id;
  setText($("dialog-error"), "");
  setText($("dialog-message"), "");
  renderDialog();
  if (!switching) dialog().showModal();
  try {
    await loadTree(true);
    renderDialog();
    schedulePoll(somethingRuns() ? BUSY_POLL_MS : IDLE_POLL_MS);
  } catch (error) {
    showDialogError(error);
  }
}

function showDialogError(error) {
  if (!(error instanceof ApiError)) throw error;
  if (error.status === 401) return;
  setText($("dialog-error"), error.describe());
  if (error.code === "unreachable") setReachable(false);
}

/** Reads one task with its children, unless a finished copy is enough. */
async function detail(id, fresh) {
  const known = state.details.get(id);
  // a finished task never changes, but a SUCCESS one may get new children from its buttons
  const settled = known && isFinished(known) && !(known.buttons.length > 0 && fresh);
  if (settled) return known;
  return upsertTask(await call("GET", `v1/tasks/${id}`));
}

/**
 * Loads the open task, its ancestors up to the root, and the root's descendants. `full` also
 * re-reads finished tasks that have buttons (new children); a poll re-reads unfinished ones only.
 */
async function loadTree(full) {
  const id = state.openId;
  if (!id) return;
  const epoch = state.epoch;
  const open = upsertTask(await call("GET", `v1/tasks/${id}`));
  let root = open;
  for (let depth = 0; root.parentId && depth < 20; depth++) {
    try {
      root = await detail(root.parentId, full);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) break;
      throw error;
    }
  }
  let level = [root];
  let count = 1;
  while (level.length > 0 && count < MAX_TREE_NODES) {
    const ids = level.flatMap((task) => task.children ?? []).slice(0, MAX_TREE_NODES - count);
    count += ids.length;
    level = await Promise.all(
      ids.map((childId) => (childId === id ? open : detail(childId, full))),
    );
  }
  if (epoch !== state.epoch || id !== state.openId) return;
  state.rootId = root.id;
}

/** The ids in the open task's tree, root first. */
function treeIds() {
  const ids = [];
  const visit = (id, depth) => {
    if (ids.length >= MAX_TREE_NODES || depth > 20) return;
    const task = state.details.get(id) ?? state.tasks.get(id);
    if (!task) return;
    ids.push(id);
    for (const child of task.children ?? []) visit(child, depth + 1);
  };
  if (state.rootId) visit(state.rootId, 0);
  return ids;
}

function createTreeNode(id) {
  const img = h("img", { alt: "", decoding: "async", width: 48, height: 48 });
  img.addEventListener("error", () => {
    img.classList.add("broken");
    img.hidden = true;
  });
  const title = h("span", { className: "node-title" });
  const status = h("span", { className: "badge" });
  const button = h("button", { type: "button", className: "node" }, [
    h("span", { className: "node-thumb" }, [img]),
    h("span", { className: "node-text" }, [title, status]),
  ]);
  button.addEventListener("click", () => openTask(id));
  const list = h("ul");
  const li = h("li", {}, [button, list]);
  return { li, button, img, title, status, list };
}

function renderTree() {
  const wanted = new Set(treeIds());
  const build = (id) => {
    const task = state.details.get(id) ?? state.tasks.get(id);
    let node = treeNodes.get(id);
    if (!node) {
      node = createTreeNode(id);
      treeNodes.set(id, node);
    }
    const running = runs(task);
    setText(node.title, actionLabel(task.action));
    setText(
      node.status,
      running ? `${statusLabel(task.status)} ${task.progress} %` : statusLabel(task.status),
    );
    node.status.dataset.status = task.status;
    node.li.dataset.status = task.status;
    node.li.dataset.action = task.action;
    setImage(node.img, thumbnailUrl(task));
    if (id === state.openId) node.button.setAttribute("aria-current", "true");
    else node.button.removeAttribute("aria-current");
    const children = (task.children ?? []).filter((child) => wanted.has(child)).map(build);
    syncChildren(node.list, children);
    node.list.hidden = children.length === 0;
    return node.li;
  };
  const tree = $("tree");
  syncChildren(tree, state.rootId && wanted.has(state.rootId) ? [build(state.rootId)] : []);
  for (const id of treeNodes.keys()) if (!wanted.has(id)) treeNodes.delete(id);
}

let renderedButtons = "";
let renderedModalFor = "";

function renderDialog() {
  const id = state.openId;
  if (!id) return;
  const task = state.details.get(id) ?? state.tasks.get(id);
  if (!task) {
    setText($("dialog-title"), "Loading task…");
    return;
  }
  const running = runs(task);
  setText($("dialog-title"), `${actionLabel(task.action)} · ${task.id.slice(-6)}`);
  const status = $("dialog-status");
  setText(status, statusLabel(task.status));
  status.dataset.status = task.status;
  setText($("dialog-progress-text"), running ? `${task.progress} %` : "");
  const progress = /** @type {HTMLProgressElement} */ ($("dialog-progress"));
  progress.hidden = !running;
  progress.value = task.progress;
  setText($("dialog-prompt"), task.prompt ?? "");
  $("dialog-prompt").hidden = !task.prompt;
  const fail = $("dialog-fail");
  fail.hidden = task.status !== "FAILURE" && task.status !== "CANCEL";
  setText(
    fail,
    task.status === "FAILURE"
      ? `This task failed: ${failText(task)}`
      : task.status === "CANCEL"
        ? `This task was cancelled: ${failText(task)}`
        : "",
  );
  $("dialog-cancel").hidden = FINISHED.has(task.status);
  renderMedia(task);
  renderPrompts(task);
  renderButtons(task);
  renderModalForm(task);
  renderFacts(task);
  renderTree();
}

/** The dialog's media elements, made once and updated in place (previews change often). */
let mediaParts = null;

function media() {
  if (mediaParts) return mediaParts;
  const img = h("img", { className: "main-media", decoding: "async" });
  const link = h("a", { target: "_blank", rel: "noopener noreferrer", className: "media-link" }, [
    img,
  ]);
  const video = h("video", { controls: true, preload: "metadata", className: "main-media" });
  const placeholder = h("p", { className: "placeholder large" });
  const list = h("ul", { className: "image-list", attrs: { "aria-label": "Separate images" } });
  img.addEventListener("error", () => {
    img.classList.add("broken");
    img.hidden = true;
    link.hidden = true;
    placeholder.hidden = false;
    setText(placeholder, "Image unavailable (its link may have expired).");
  });
  $("dialog-media").replaceChildren(video, link, placeholder, list);
  mediaParts = { img, link, video, placeholder, list, taskId: "", extra: "" };
  return mediaParts;
}

function renderMedia(task) {
  const m = media();
  if (m.taskId !== task.id) {
    // another task: never show the previous one's picture while the new one loads
    m.taskId = task.id;
    m.img.removeAttribute("src");
    m.video.removeAttribute("src");
  }
  const video = safeUrl(task.videoUrl);
  m.video.hidden = !video;
  if (video && m.video.getAttribute("src") !== video) m.video.src = video;

  const image = safeUrl(task.imageUrl);
  if (image) {
    m.link.href = image;
    setImage(m.img, image);
    m.img.alt = task.prompt
      ? `Result: ${shorten(task.prompt, 120)}`
      : `Result of ${actionLabel(task.action)}`;
  } else {
    m.img.removeAttribute("src");
    m.img.removeAttribute("alt");
  }
  const broken = Boolean(image) && m.img.classList.contains("broken");
  m.link.hidden = !image || broken;
  m.placeholder.hidden = Boolean((image && !broken) || video);
  setText(
    m.placeholder,
    broken ? "Image unavailable (its link may have expired)." : placeholderText(task),
  );

  const extra = (task.imageUrls ?? []).map(safeUrl).filter(Boolean);
  const signature = extra.join(" ");
  m.list.hidden = extra.length === 0;
  if (signature !== m.extra) {
    m.extra = signature;
    m.list.replaceChildren(
      ...extra.map((url, i) =>
        h("li", {}, [
          h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, [
            h("img", { src: url, alt: `Image ${i + 1}`, width: 96, height: 96, loading: "lazy" }),
          ]),
        ]),
      ),
    );
  }
}

function renderPrompts(task) {
  const list = $("dialog-prompts");
  const prompts = task.prompts ?? [];
  list.hidden = prompts.length === 0;
  if (list.dataset.for === `${task.id}:${prompts.length}`) return;
  list.dataset.for = `${task.id}:${prompts.length}`;
  list.replaceChildren(...prompts.map((p) => h("li", {}, [p])));
}

function renderButtons(task) {
  const usable = task.status === "SUCCESS" ? task.buttons : [];
  const signature = `${task.id}|${usable.map((b) => b.customId).join("|")}`;
  $("dialog-actions").hidden = usable.length === 0;
  if (signature === renderedButtons) return;
  renderedButtons = signature;
  $("dialog-buttons").replaceChildren(
    ...usable.map((button) => {
      const names = buttonNames(button);
      const element = h("button", { type: "button", className: "action-button" }, [names.text]);
      if (names.name !== names.text) element.setAttribute("aria-label", names.name);
      element.title = names.name;
      element.addEventListener("click", () => runAction(task.id, button, names.name, element));
      return element;
    }),
  );
}

async function runAction(taskId, button, name, element) {
  element.disabled = true;
  setText($("dialog-error"), "");
  setText($("dialog-message"), `Starting ${name}…`);
  try {
    const child = await call("POST", `v1/tasks/${taskId}/actions`, { customId: button.customId });
    upsertTask(child);
    const parent = state.details.get(taskId);
    if (parent && !parent.children.includes(child.id)) {
      state.details.set(taskId, { ...parent, children: [child.id, ...parent.children] });
    }
    mergeIntoGrid([child]);
    renderGrid();
    renderDialog();
    announce(`${name} started.`);
    setText($("dialog-message"), `${name} started: it is in the task tree below.`);
    // the parent's children changed: read the tree again (the child is already shown)
    await loadTree(true).catch(() => {});
    renderDialog();
    schedulePoll(BUSY_POLL_MS);
  } catch (error) {
    setText($("dialog-message"), "");
    showDialogError(error);
    if (error instanceof ApiError && error.task) {
      mergeIntoGrid([error.task]);
      renderGrid();
    }
  } finally {
    element.disabled = false;
  }
}

/** Cancels the open task: it is CANCEL at once (its failReason says what the upstream did). */
async function cancelOpenTask() {
  const id = state.openId;
  if (!id) return;
  const button = /** @type {HTMLButtonElement} */ ($("dialog-cancel"));
  button.disabled = true;
  setText($("dialog-error"), "");
  try {
    const task = await call("POST", `v1/tasks/${id}/cancel`);
    upsertTask(task);
    mergeIntoGrid([task]);
    renderGrid();
    renderDialog();
    announce("Task cancelled.");
    setText($("dialog-message"), "Cancelled.");
  } catch (error) {
    showDialogError(error);
  } finally {
    button.disabled = false;
  }
}

function renderModalForm(task) {
  const form = $("modal-form");
  form.hidden = task.status !== "MODAL";
  if (task.status === "MODAL" && renderedModalFor !== task.id) {
    renderedModalFor = task.id;
    /** @type {HTMLTextAreaElement} */ ($("modal-prompt")).value = task.prompt ?? "";
  }
}

async function submitModal(event) {
  event.preventDefault();
  const id = state.openId;
  if (!id) return;
  const button = /** @type {HTMLButtonElement} */ ($("modal-submit"));
  const prompt = /** @type {HTMLTextAreaElement} */ ($("modal-prompt")).value;
  button.disabled = true;
  setText($("dialog-error"), "");
  try {
    const task = await call("POST", `v1/tasks/${id}/modal`, prompt.trim() ? { prompt } : {});
    upsertTask(task);
    mergeIntoGrid([task]);
    renderGrid();
    renderDialog();
    setText($("dialog-message"), "Submitted: the task goes on.");
    schedulePoll(BUSY_POLL_MS);
  } catch (error) {
    showDialogError(error);
  } finally {
    button.disabled = false;
  }
}

function renderFacts(task) {
  const rows = [
    ["Task id", task.id],
    ["Action", actionLabel(task.action)],
    ["Upstream task", task.upstreamTaskId ?? "—"],
    ["Parent", task.parentId ?? "—"],
    ["Created", new Date(task.createdAt).toLocaleString()],
    ["Finished", task.finishedAt ? new Date(task.finishedAt).toLocaleString() : "—"],
  ];
  if (task.metadata && Object.keys(task.metadata).length > 0) {
    rows.push(["Metadata", JSON.stringify(task.metadata)]);
  }
  const signature = JSON.stringify(rows);
  const list = $("dialog-facts");
  if (list.dataset.signature === signature) return;
  list.dataset.signature = signature;
  list.replaceChildren(
    ...rows.flatMap(([term, value]) => [h("dt", {}, [term]), h("dd", {}, [value])]),
  );
}

function closeDialog() {
  state.openId = null;
  state.rootId = null;
  renderedButtons = "";
  renderedModalFor = "";
  treeNodes.clear();
  $("tree").replaceChildren();
  const card = opener?.isConnected ? opener : null;
  opener = null;
  card?.focus();
}

// ---------------------------------------------------------------------------------------------
// Wiring

function start() {
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ ($("api-key"));
    const remember = /** @type {HTMLInputElement} */ ($("remember")).checked;
    const key = input.value.trim();
    const error = $("sign-in-error");
    if (!key) {
      setText(error, "Paste your API key first.");
      input.focus();
      return;
    }
    const button = /** @type {HTMLButtonElement} */ ($("sign-in-button"));
    button.disabled = true;
    setText(error, "");
    try {
      await signIn(key, remember);
      input.value = "";
      announce("Signed in.");
      $("prompt").focus();
    } catch (failure) {
      if (!(failure instanceof ApiError)) throw failure;
      state.key = null;
      setText(error, failure.describe());
      input.focus();
    } finally {
      button.disabled = false;
    }
  });

  $("sign-out").addEventListener("click", () => signOut(null));
  $("imagine-form").addEventListener("submit", imagine);
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      /** @type {HTMLFormElement} */ ($("imagine-form")).requestSubmit();
    }
  });
  $("status-filter").addEventListener("change", async (event) => {
    state.filter = /** @type {HTMLSelectElement} */ (event.target).value;
    state.epoch++;
    state.order = [];
    state.cursor = null;
    setText($("list-status"), "Loading…");
    try {
      await loadFirstPage(true);
      setReachable(true);
    } catch (error) {
      showListError(error);
    }
    schedulePoll(somethingRuns() ? BUSY_POLL_MS : IDLE_POLL_MS);
  });
  $("refresh").addEventListener("click", () => schedulePoll(0));
  $("load-more").addEventListener("click", loadMore);
  $("dialog-close").addEventListener("click", () => dialog().close());
  $("modal-form").addEventListener("submit", submitModal);
  $("dialog-cancel").addEventListener("click", cancelOpenTask);
  dialog().addEventListener("close", closeDialog);
  // a click on the backdrop (the dialog element itself, outside its content) closes it
  dialog().addEventListener("click", (event) => {
    if (event.target === dialog()) dialog().close();
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) schedulePoll(0);
  });

  const stored = readStoredKey();
  if (!stored) {
    $("sign-in").hidden = false;
    return;
  }
  /** @type {HTMLInputElement} */ ($("remember")).checked = localStorage.getItem(KEY_NAME) !== null;
  signIn(stored, localStorage.getItem(KEY_NAME) !== null).catch((error) => {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 401) return; // signOut already showed the message
    // keep the key (the server may just be down): show the workspace and keep trying
    state.key = stored;
    showWorkspace();
    showListError(error);
    schedulePoll(RETRY_POLL_MS);
  });
}

start();
