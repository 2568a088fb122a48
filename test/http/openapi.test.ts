import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStateToken } from "../../functions/core/state-token.ts";
import {
  buildOpenApiDocument,
  OPENAPI_FILE,
  OPERATIONS,
  type RouteKey,
  renderOpenApiDocument,
} from "../../functions/http/openapi.ts";
import { DOCS_ASSET_FILES, ROUTES } from "../../functions/routes.ts";
import { type DynamoDbProxy, startDynamoDbProxy } from "../../local/dynamodb-proxy.ts";
import { dynamodbEndpoint, eventually, OWNERS } from "../helpers.ts";
import { startTestStack, type TestStack } from "../stack.ts";

/**
 * The OpenAPI document (functions/http/openapi.json) against the code: it is what the generator
 * makes from the zod schemas today, it has every route, and real answers of the real local stack
 * (successes and the contract's errors) validate against the schemas it declares for them.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const committed = JSON.parse(readFileSync(join(ROOT, OPENAPI_FILE), "utf8"));

type Json = Record<string, any>;
const doc = committed as Json;

const addFormats =
  (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule;
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema({ ...doc, $id: "openapi.json" });

const validators = new Map<string, ValidateFunction>();
function validatorOf(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = ajv.compile({ $ref: `openapi.json${ref}` });
    validators.set(ref, validate);
  }
  return validate;
}

const resolve = (node: Json): Json =>
  node.$ref
    ? (node.$ref as string)
        .slice(2)
        .split("/")
        .reduce((at: Json, key: string) => at[key.replace(/~1/g, "/").replace(/~0/g, "~")], doc)
    : node;

/** Which (operation, status) answers were checked, to prove the test covers the document. */
const checked = new Set<string>();

let stack: TestStack;
let proxy: DynamoDbProxy;
const callbackSecret = randomBytes(32).toString("base64url");

beforeAll(async () => {
  proxy = await startDynamoDbProxy(dynamodbEndpoint());
  // trueai: the host with every submit route the document has (retexture included)
  stack = await startTestStack({
    dynamodbEndpoint: proxy.endpoint,
    callbackSecret,
    simulator: { profile: "trueai" },
  });
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
});

/**
 * Sends a real request, finds the operation the document has for the route, and checks that the
 * answer's status is documented there, its content type is the documented one, and its JSON fits
 * the documented schema. A 2xx request's JSON body must also fit the documented request body.
 */
async function call(
  method: "GET" | "POST" | "DELETE",
  route: string,
  path: string,
  options: {
    body?: unknown;
    raw?: string;
    key?: string | null;
    headers?: Record<string, string>;
  } = {},
) {
  const key = options.key === undefined ? OWNERS.alice.key : options.key;
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(options.body !== undefined || options.raw !== undefined
        ? { "content-type": "application/json" }
        : {}),
      ...options.headers,
    },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    redirect: "manual",
  });
  const operation = doc.paths[route]?.[method.toLowerCase()];
  expect(operation, `${method} ${route} is in the document`).toBeDefined();
  const documented = operation.responses[String(response.status)];
  expect(documented, `${method} ${route} documents ${response.status}`).toBeDefined();
  const answer = resolve(documented);
  const type = (response.headers.get("content-type") ?? "").split(";")[0] ?? "";
  if (response.status === 204) {
    expect(answer.content, `${method} ${route} 204 has no body`).toBeUndefined();
  } else {
    expect(Object.keys(answer.content ?? {}), `${method} ${route} ${response.status}`).toContain(
      type,
    );
  }
  const text = await response.text();
  let body: any = text;
  if (type === "application/json") {
    body = JSON.parse(text);
    const schema = answer.content["application/json"].schema;
    const validate = validatorOf(schema.$ref ?? "");
    expect(
      validate(body),
      `${method} ${route} ${response.status}: ${ajv.errorsText(validate.errors)}`,
    ).toBe(true);
  }
  if (response.ok && options.body !== undefined && operation.requestBody) {
    const validate = validatorOf(operation.requestBody.content["application/json"].schema.$ref);
    expect(
      validate(options.body),
      `request of ${method} ${route}: ${ajv.errorsText(validate.errors)}`,
    ).toBe(true);
  }
  checked.add(`${method} ${route} ${response.status}`);
  return { status: response.status, headers: response.headers, body };
}

const png = (size: number) =>
  `data:image/png;base64,${PNG.sync.write(new PNG({ width: size, height: size })).toString("base64")}`;

async function finished(id: string) {
  const read = await eventually(
    () => call("GET", "/v1/tasks/{id}", `/v1/tasks/${id}`),
    (r) => ["SUCCESS", "FAILURE"].includes(r.body?.status),
  );
  expect(read.body.status).toBe("SUCCESS");
  return read.body;
}

const customId = (task: any, label: string): string =>
  task.buttons.find((b: any) => b.label === label || b.emoji === label).customId;

describe("the OpenAPI document", () => {
  it("is what the generator makes from the schemas today (run `npm run openapi` after a change)", () => {
    expect(readFileSync(join(ROOT, OPENAPI_FILE), "utf8")).toBe(renderOpenApiDocument());
    expect(buildOpenApiDocument()).toEqual(committed);
  });

  it("is OpenAPI 3.1 with every public route of functions/routes.ts, and no route that is not there", () => {
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item as Json).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const keys = ROUTES.map((r) => `${r.method} ${r.path}` as RouteKey);
    expect(documented.sort()).toEqual(keys.filter((key) => !OPERATIONS[key].internal).sort());
    // the gallery's and the reference's own files are served, but are not the API
    expect(keys.filter((key) => OPERATIONS[key].internal).sort()).toEqual([
      "GET /docs/{file}",
      "GET /gallery.css",
      "GET /gallery.js",
    ]);
    const ids = documented.map((key) => {
      const [method, path] = key.split(" ") as [string, string];
      return doc.paths[path][method.toLowerCase()].operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("needs the bearer key exactly on the /v1 routes", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const operation of Object.values(item as Json)) {
        const open = Array.isArray(operation.security) && operation.security.length === 0;
        expect(open, path).toBe(!path.startsWith("/v1/"));
        // the operator's routes take ADMIN_KEY, and only those
        const admin = JSON.stringify(operation.security ?? null) === '[{"adminKey":[]}]';
        expect(admin, path).toBe(path.startsWith("/v1/admin/"));
      }
    }
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.adminKey).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
  });

  it("has an intro that reads on a phone: short steps, and no code span too wide for 390 px", () => {
    const intro = doc.info.description as string;
    expect(intro).toMatch(/^1\. \*\*Submit\*\*/m);
    const spans = [...intro.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
    expect(spans.length).toBeGreaterThan(3);
    // about 30 monospace characters fit a 390 px screen beside Swagger UI's margins
    for (const span of spans) expect(span.length, span).toBeLessThanOrEqual(30);
  });

  it("has schemas that compile and references that resolve", () => {
    for (const name of Object.keys(doc.components.schemas)) {
      expect(() => validatorOf(`#/components/schemas/${name}`), name).not.toThrow();
    }
  });

  it("documents the contract's error body, with the codes each status can carry", () => {
    const unauthorized = validatorOf("#/components/schemas/UnauthorizedError");
    expect(unauthorized({ error: { code: "unauthorized", message: "no" } })).toBe(true);
    expect(unauthorized({ error: { code: "not_found", message: "no" } })).toBe(false);
    const rejected = validatorOf("#/components/schemas/UpstreamRejectedError");
    expect(rejected.schema).toBeDefined();
    expect(doc.components.responses.UpstreamBusyError.headers["Retry-After"]).toBeDefined();
  });
});

describe("real answers validate against the document", () => {
  let root: any;
  let upscale: any;

  it("health, imagine (with an Idempotency-Key), the task while it runs and when done", async () => {
    await call("GET", "/health", "/health", { key: null });
    const submitted = await call("POST", "/v1/imagine", "/v1/imagine", {
      body: { prompt: "a paper boat, documented", metadata: { from: "openapi" } },
      headers: { "idempotency-key": `doc-${randomBytes(4).toString("hex")}` },
    });
    expect(submitted.status).toBe(202);
    root = await finished(submitted.body.id);
    expect(root.buttons.length).toBeGreaterThan(0);
  });

  it("lists pages with a cursor, and filters", async () => {
    await call("POST", "/v1/imagine", "/v1/imagine", { body: { prompt: "a second boat" } });
    const first = await call("GET", "/v1/tasks", "/v1/tasks?limit=1");
    expect(first.body.nextCursor).toEqual(expect.any(String));
    await call("GET", "/v1/tasks", `/v1/tasks?limit=1&cursor=${first.body.nextCursor}`);
    await call("GET", "/v1/tasks", "/v1/tasks?status=SUCCESS&action=IMAGINE");
  });

  it("actions, a task with children, the seed, and a modal", async () => {
    const child = await call("POST", "/v1/tasks/{id}/actions", `/v1/tasks/${root.id}/actions`, {
      body: { customId: customId(root, "U1") },
    });
    expect(child.status).toBe(202);
    upscale = await finished(child.body.id);
    const withChildren = await call("GET", "/v1/tasks/{id}", `/v1/tasks/${root.id}`);
    expect(withChildren.body.children).toContain(upscale.id);
    const seed = await call("GET", "/v1/tasks/{id}/seed", `/v1/tasks/${root.id}/seed`);
    expect(seed.status).toBe(200);

    const zoom = await call("POST", "/v1/tasks/{id}/actions", `/v1/tasks/${upscale.id}/actions`, {
      body: { customId: customId(upscale, "Custom Zoom") },
    });
    expect(zoom.body.status).toBe("MODAL");
    const modal = await call("POST", "/v1/tasks/{id}/modal", `/v1/tasks/${zoom.body.id}/modal`, {
      body: { prompt: "a paper boat, further away --zoom 1.5" },
    });
    expect(modal.status).toBe(202);
    // the modal is done: a second one is the contract's 409
    const again = await call("POST", "/v1/tasks/{id}/modal", `/v1/tasks/${zoom.body.id}/modal`, {
      body: {},
    });
    expect(again.body.error.code).toBe("invalid_state");

    // cancel: a task waiting in MODAL (202 CANCEL), a finished one (409), another owner's (404)
    const waiting = await call(
      "POST",
      "/v1/tasks/{id}/actions",
      `/v1/tasks/${upscale.id}/actions`,
      {
        body: { customId: customId(upscale, "Custom Zoom") },
      },
    );
    const cancel = (id: string, key?: string) =>
      call("POST", "/v1/tasks/{id}/cancel", `/v1/tasks/${id}/cancel`, key ? { key } : {});
    expect((await cancel(waiting.body.id, OWNERS.bob.key)).status).toBe(404);
    const cancelled = await cancel(waiting.body.id);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe("CANCEL");
    expect((await cancel(root.id)).body.error.code).toBe("invalid_state");
  });

  it("every request body's example is accepted as it is (Swagger UI's Try it out starts from it)", async () => {
    // a task waiting in MODAL, for the modal's example
    const zoom = await call("POST", "/v1/tasks/{id}/actions", `/v1/tasks/${upscale.id}/actions`, {
      body: { customId: customId(upscale, "Custom Zoom") },
    });
    expect(zoom.body.status).toBe("MODAL");
    const tried: string[] = [];
    for (const [route, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item as Json)) {
        if (!operation.requestBody) continue;
        const example = operation.requestBody.content["application/json"].example;
        expect(example, `${method} ${route} has an example`).toBeDefined();
        let body = example;
        let path = route;
        let key: string | null = OWNERS.alice.key;
        if (route === "/v1/tasks/{id}/actions") {
          // the example is a U1 button; each task's buttons carry that task's own hash
          const u1 = customId(root, "U1");
          expect(u1.slice(0, u1.lastIndexOf("::"))).toBe(
            example.customId.slice(0, example.customId.lastIndexOf("::")),
          );
          body = { ...example, customId: u1 };
          path = `/v1/tasks/${root.id}/actions`;
        } else if (route === "/v1/tasks/{id}/modal") {
          path = `/v1/tasks/${zoom.body.id}/modal`;
        } else if (route === "/hooks/midjourney") {
          // the state token is the only credential: the real one, the rest as the example has it
          body = { ...example, state: createStateToken(callbackSecret, root.id) };
          key = null;
        } else if (route.startsWith("/v1/admin/")) {
          // the operator's routes take ADMIN_KEY
          key = stack.adminKey;
          path = route.replace("{owner}", "openapi-owner");
        }
        const answer = await call(method.toUpperCase() as "POST", route, path, { body, key });
        expect(answer.status, `${method} ${route}: ${JSON.stringify(answer.body)}`).toBeLessThan(
          300,
        );
        tried.push(`${method.toUpperCase()} ${route}`);
      }
    }
    const withBody = Object.entries(OPERATIONS)
      .filter(([, spec]) => spec.body && !spec.internal)
      .map(([key]) => key);
    expect(tried.sort()).toEqual(withBody.sort());
  });

  it("blend, describe, shorten and video", async () => {
    for (const [route, body] of [
      ["/v1/blend", { base64Array: [png(4), png(6)], dimensions: "SQUARE" }],
      ["/v1/describe", { base64: png(5) }],
      ["/v1/shorten", { prompt: "a very long prompt about a small paper boat on a wide sea" }],
      ["/v1/video", { image: png(7), motion: "high" }],
    ] as const) {
      const answer = await call("POST", route, route, { body });
      expect(answer.status, route).toBe(202);
    }
  });

  it("the webhook: applied or stale, a state that does not verify, a body that is not a task", async () => {
    const state = createStateToken(callbackSecret, root.id);
    const stale = await call("POST", "/hooks/midjourney", "/hooks/midjourney", {
      key: null,
      body: { id: root.upstreamTaskId, status: "IN_PROGRESS", progress: "10%", state },
    });
    expect(stale.body.result).toBe("stale");
    const forged = await call("POST", "/hooks/midjourney", "/hooks/midjourney", {
      key: null,
      body: { id: "1", status: "SUCCESS", state: "pb1.nope.nope" },
    });
    expect(forged.status).toBe(401);
    const garbage = await call("POST", "/hooks/midjourney", "/hooks/midjourney", {
      key: null,
      body: { state, status: 42 },
    });
    expect(garbage.status).toBe(400);
  });

  it("400, 401, 404, 409 and 413 on the routes that have them", async () => {
    const notJson = await call("POST", "/v1/imagine", "/v1/imagine", { raw: "{nope" });
    expect(notJson.body.error.code).toBe("invalid_json");
    const invalid = await call("POST", "/v1/imagine", "/v1/imagine", { body: { prompt: "" } });
    expect(invalid.body.error.details[0].path).toBe("prompt");
    expect(validatorOf("#/components/schemas/ImagineRequest")({ prompt: "" })).toBe(false);
    const badKey = await call("POST", "/v1/imagine", "/v1/imagine", {
      body: { prompt: "x" },
      headers: { "idempotency-key": "é" },
    });
    expect(badKey.status).toBe(400);
    const badLimit = await call("GET", "/v1/tasks", "/v1/tasks?limit=500");
    expect(badLimit.status).toBe(400);

    expect((await call("GET", "/v1/tasks", "/v1/tasks", { key: null })).status).toBe(401);
    expect(
      (await call("GET", "/v1/tasks/{id}", `/v1/tasks/${root.id}`, { key: "nope" })).status,
    ).toBe(401);
    expect((await call("POST", "/v1/blend", "/v1/blend", { key: null, body: {} })).status).toBe(
      401,
    );

    const other = await call("GET", "/v1/tasks/{id}", `/v1/tasks/${root.id}`, {
      key: OWNERS.bob.key,
    });
    expect(other.status).toBe(404);
    expect((await call("GET", "/v1/tasks/{id}/seed", "/v1/tasks/nope/seed")).status).toBe(404);
    expect(
      (
        await call(
          "POST",
          "/v1/tasks/{id}/actions",
          "/v1/tasks/01ARZ3NDEKTSV4RRFFQ69G5FAV/actions",
          {
            body: { customId: "MJ::JOB::upsample::1::x" },
          },
        )
      ).status,
    ).toBe(404);

    const wrongButton = await call(
      "POST",
      "/v1/tasks/{id}/actions",
      `/v1/tasks/${root.id}/actions`,
      {
        body: { customId: "MJ::JOB::nothing::1::x" },
      },
    );
    expect(wrongButton.body.error.code).toBe("invalid_state");
    const key = `doc-conflict-${randomBytes(4).toString("hex")}`;
    await call("POST", "/v1/shorten", "/v1/shorten", {
      body: { prompt: "first" },
      headers: { "idempotency-key": key },
    });
    const conflict = await call("POST", "/v1/shorten", "/v1/shorten", {
      body: { prompt: "second" },
      headers: { "idempotency-key": key },
    });
    expect(conflict.body.error.code).toBe("idempotency_conflict");

    const big = await call("POST", "/v1/tasks/{id}/actions", `/v1/tasks/${root.id}/actions`, {
      raw: JSON.stringify({ customId: "x".repeat(20_000) }),
    });
    expect(big.status).toBe(413);
  });

  it("the upstream's refusal (422), full queue (429) and failure (502) carry the recorded task", async () => {
    const refused = await call("POST", "/v1/imagine", "/v1/imagine", {
      body: { prompt: "a boat --sim-banned" },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.task.status).toBe("FAILURE");
    const busy = await call("POST", "/v1/imagine", "/v1/imagine", {
      body: { prompt: "a boat --sim-submit=queueFull" },
    });
    expect(busy.status).toBe(429);
    expect(busy.headers.get("retry-after")).toMatch(/^\d+$/);
    const down = await call("POST", "/v1/imagine", "/v1/imagine", {
      body: { prompt: "a boat --sim-submit=http500" },
    });
    expect(down.status).toBe(502);
  });

  it("a storage outage is 503 with Retry-After", async () => {
    proxy.setFault({ kind: "error500", operations: ["GetItem"] });
    try {
      const read = await call("GET", "/v1/tasks/{id}", `/v1/tasks/${root.id}`);
      expect(read.status).toBe(503);
      expect(read.headers.get("retry-after")).toBe("1");
    } finally {
      proxy.setFault(null);
    }
  });

  it("the docs: the document itself, the page and every file it loads, nothing from elsewhere", async () => {
    const served = await call("GET", "/openapi.json", "/openapi.json", { key: null });
    expect(served.body).toEqual(committed);
    const page = await call("GET", "/docs", "/docs", { key: null });
    expect(page.body).toContain('url: "openapi.json"');
    // every URL the page loads is relative: served by us, no CDN
    const urls = [...(page.body as string).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(2);
    for (const url of urls) expect(url).toMatch(/^docs\/[\w.-]+$/);
    expect(page.body).not.toMatch(/https?:\/\//);
    // the page's own files: served, though not listed with the API
    for (const file of DOCS_ASSET_FILES) {
      const asset = await fetch(`${stack.url}/docs/${file}`);
      expect(asset.status, file).toBe(200);
      await asset.arrayBuffer();
      expect(urls).toContain(`docs/${file}`);
    }
    const missing = await fetch(`${stack.url}/docs/swagger-ui.js.map`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Json).error.code).toBe("not_found");
  });

  it("our webhooks: the delivery log, a redelivery, the signing secret and its rotation", async () => {
    const receiver = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
    try {
      const port = (receiver.address() as AddressInfo).port;
      const submitted = await call("POST", "/v1/imagine", "/v1/imagine", {
        body: { prompt: "a hooked boat", webhookUrl: `http://127.0.0.1:${port}/hook` },
      });
      await finished(submitted.body.id);
      await stack.dispatchOnce();
      const log = await call(
        "GET",
        "/v1/tasks/{id}/deliveries",
        `/v1/tasks/${submitted.body.id}/deliveries`,
      );
      // the task's webhookUrl (the owner may also have an account endpoint from its example)
      const own = log.body.items.find((d: Json) => d.target === "webhook");
      expect(own.status).toBe("delivered");
      const retried = await call(
        "POST",
        "/v1/tasks/{id}/deliveries/{deliveryId}/retry",
        `/v1/tasks/${submitted.body.id}/deliveries/${own.id}/retry`,
      );
      expect(retried.status).toBe(202);
      const secret = await call("GET", "/v1/webhook-secret", "/v1/webhook-secret");
      expect(secret.body.secret).toMatch(/^whsec_/);
      const rotated = await call("POST", "/v1/webhook-secret/rotate", "/v1/webhook-secret/rotate", {
        body: { gracePeriodSeconds: 60 },
      });
      expect(rotated.body.version).toBe(secret.body.version + 1);
      // account endpoints: list them, delete each (one was added by its example)
      const endpoints = await call("GET", "/v1/webhook-endpoints", "/v1/webhook-endpoints");
      expect(endpoints.status).toBe(200);
      for (const e of endpoints.body.items) {
        const gone = `/v1/webhook-endpoints/${e.id}`;
        expect((await call("DELETE", "/v1/webhook-endpoints/{id}", gone)).status).toBe(204);
        expect((await call("DELETE", "/v1/webhook-endpoints/{id}", gone)).status).toBe(404);
      }
    } finally {
      receiver.close();
      receiver.closeAllConnections();
    }
  });

  it("the operator's keys: create, list, revoke, and the admin routes' errors", async () => {
    const admin = { key: stack.adminKey };
    const created = await call("POST", "/v1/admin/keys", "/v1/admin/keys", {
      ...admin,
      body: { owner: "openapi-owner", name: "documented" },
    });
    expect(created.status).toBe(201);
    const listed = await call("GET", "/v1/admin/keys", "/v1/admin/keys?owner=openapi-owner", admin);
    expect(listed.body.items).toHaveLength(1);
    const path = `/v1/admin/keys/${created.body.id}`;
    expect((await call("DELETE", "/v1/admin/keys/{id}", path, admin)).status).toBe(204);
    expect((await call("DELETE", "/v1/admin/keys/{id}", path, admin)).status).toBe(404);
    const bad = await call("POST", "/v1/admin/keys", "/v1/admin/keys", {
      ...admin,
      body: { owner: "not an owner" },
    });
    expect(bad.status).toBe(400);
    // an owner's key is not the admin key
    expect((await call("GET", "/v1/admin/keys", "/v1/admin/keys")).status).toBe(401);
  });

  it("usage: the owner's and, with ADMIN_KEY, any owner's; a bad date is 400", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const mine = await call("GET", "/v1/usage", `/v1/usage?from=${today}&to=${today}`);
    expect(mine.body.totals.jobs.IMAGINE).toBeGreaterThan(0);
    const theirs = await call("GET", "/v1/admin/usage", "/v1/admin/usage?owner=alice", {
      key: stack.adminKey,
    });
    expect(theirs.body.totals.jobs.IMAGINE).toBeGreaterThan(0);
    expect((await call("GET", "/v1/usage", "/v1/usage?from=2026-02-30")).status).toBe(400);
  });

  it("covered every JSON operation's success answer, and each documented error status somewhere", () => {
    const jsonOperations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item as Json)
        .map(([method, op]) => {
          const status = Object.keys(op.responses).find((s) => /^[23]/.test(s)) as string;
          const json = resolve(op.responses[status]).content?.["application/json"]?.schema?.$ref;
          return json ? `${method.toUpperCase()} ${path} ${status}` : null;
        })
        .filter((key) => key !== null),
    );
    for (const key of jsonOperations) expect(checked, key).toContain(key);
    const statuses = new Set([...checked].map((key) => key.split(" ")[2]));
    for (const status of ["400", "401", "404", "409", "413", "422", "429", "502", "503"]) {
      expect(statuses, status).toContain(status);
    }
  });
});
