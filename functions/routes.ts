/**
 * Every HTTP route of the contract (shared/API.md), and which function serves it.
 * infra/api.ts wires exactly these; the local server mounts the same apps; tests check both.
 */
export const FUNCTIONS = {
  submit: { handlerFile: "functions/submit.ts", export: "handler" },
  callback: { handlerFile: "functions/callback.ts", export: "handler" },
  read: { handlerFile: "functions/read.ts", export: "handler" },
} as const;

export type FunctionName = keyof typeof FUNCTIONS;

export const ROUTES = [
  { method: "POST", path: "/v1/imagine", fn: "submit" },
  { method: "POST", path: "/v1/tasks/{id}/actions", fn: "submit" },
  { method: "POST", path: "/v1/tasks/{id}/modal", fn: "submit" },
  { method: "POST", path: "/v1/blend", fn: "submit" },
  { method: "POST", path: "/v1/describe", fn: "submit" },
  { method: "POST", path: "/v1/shorten", fn: "submit" },
  { method: "POST", path: "/v1/video", fn: "submit" },
  // the seed asks the upstream, so it runs where the upstream key is: submit
  { method: "GET", path: "/v1/tasks/{id}/seed", fn: "submit" },
  { method: "POST", path: "/hooks/midjourney", fn: "callback" },
  { method: "GET", path: "/v1/tasks/{id}", fn: "read" },
  { method: "GET", path: "/v1/tasks", fn: "read" },
  { method: "GET", path: "/health", fn: "read" },
] as const satisfies readonly { method: string; path: string; fn: FunctionName }[];

export const CALLBACK_PATH = "/hooks/midjourney";
