import {
  ApiError,
  ButtonNotFoundError,
  ConnectionError,
  UnexpectedResponseError,
  WaitTimeoutError,
} from "../client/index.ts";

/** What the CLI's exit code means (docs/client-and-cli.md). */
export const EXIT = {
  ok: 0,
  /** the task ended in FAILURE or CANCEL, or something unexpected broke */
  failed: 1,
  /** bad command line: unknown command or option, missing argument, unreadable file or config */
  usage: 2,
  /** no API key, or the server refused it (401) */
  auth: 3,
  /** the task does not exist, or the request was refused as invalid (400, 404, 409, 413, 422) */
  invalid: 4,
  /** the server cannot be reached, or the upstream is in trouble (429, 502, 503, timeouts) */
  unavailable: 5,
  /** interrupted (Ctrl-C); the task goes on */
  interrupted: 130,
} as const;

/** A failure the CLI explains in one sentence and ends with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Any error → the sentence a user reads, the code a script reads, and the exit code. */
export function explain(error: unknown, context: { url: string }): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof ApiError) {
    const { status, code, message, details } = error;
    if (status === 401) {
      return new CliError(
        EXIT.auth,
        code,
        `The server at ${context.url} refused the API key: ${message} Check --api-key, PAPERBOAT_API_KEY or the config file (\`npm start\` prints the dev key).`,
      );
    }
    if (code === "upstream_busy") {
      const wait = error.retryAfterSeconds ? ` Retry in ${error.retryAfterSeconds} s.` : "";
      return new CliError(EXIT.unavailable, code, `${message}${wait}`);
    }
    const exitCode = status >= 500 || status === 429 ? EXIT.unavailable : EXIT.invalid;
    return new CliError(exitCode, code, message, details);
  }
  if (error instanceof ConnectionError) {
    return new CliError(
      EXIT.unavailable,
      "connection_failed",
      `Cannot reach the paperboat server at ${error.url}: ${error.reason}. Start it with \`npm start\`, or point --url (or PAPERBOAT_URL) at it.`,
    );
  }
  if (error instanceof UnexpectedResponseError) {
    return new CliError(
      EXIT.unavailable,
      "unexpected_response",
      `${error.message} Is ${context.url} a paperboat server?`,
    );
  }
  if (error instanceof WaitTimeoutError) {
    return new CliError(
      EXIT.unavailable,
      "wait_timeout",
      `${error.message} It goes on: \`paperboat wait ${error.task.id}\`.`,
    );
  }
  if (error instanceof ButtonNotFoundError) {
    return new CliError(EXIT.invalid, "button_not_found", error.message);
  }
  if ((error as Error)?.name === "AbortError") {
    return new CliError(EXIT.interrupted, "interrupted", "Interrupted.");
  }
  return new CliError(
    EXIT.failed,
    "internal_error",
    `Something unexpected went wrong: ${(error as Error)?.message ?? String(error)}`,
  );
}
