import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One route as infra/api.ts declares it: `GET /v1/tasks/{id}` or `$default`. */
export interface HttpApiRoute {
  route: string;
  invoke(event: unknown): Promise<unknown>;
}

interface Matcher {
  route: string;
  method: string;
  pattern: RegExp;
  params: string[];
  literalLength: number;
  invoke: HttpApiRoute["invoke"];
}

function compile(route: HttpApiRoute): Matcher {
  const [method = "", path = ""] = route.route.split(" ");
  const params: string[] = [];
  const source = path
    .split("/")
    .map((segment) => {
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      params.push(param[1] as string);
      return "([^/]+)";
    })
    .join("/");
  return {
    route: route.route,
    method,
    pattern: new RegExp(`^${source}$`),
    params,
    literalLength: path.replace(/\{[^}]+\}/g, "").length,
    invoke: route.invoke,
  };
}

const TEXT = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript))/;

/**
 * The API Gateway HTTP API in front of the functions, enough to drive bundled handlers over real
 * HTTP: routes match on method and path (most specific first, else `$default`), each request
 * becomes a payload-format 2.0 event, and the handler's result becomes the response. A handler
 * that throws answers 500 `{"message":"Internal Server Error"}`, as API Gateway does.
 */
export async function startHttpApi(
  routes: HttpApiRoute[],
): Promise<{ url: string; stop(): Promise<void> }> {
  const matchers = routes.filter((r) => r.route !== "$default").map(compile);
  matchers.sort((a, b) => b.literalLength - a.literalLength);
  const fallback = routes.find((r) => r.route === "$default");
  const apiId = randomBytes(5).toString("hex");

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Internal Server Error", detail: String(error) }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? "/", "http://gateway");
    const method = req.method ?? "GET";

    let routeKey = "$default";
    let invoke = fallback?.invoke;
    let pathParameters: Record<string, string> | undefined;
    for (const m of matchers) {
      const match = m.method === method ? m.pattern.exec(url.pathname) : null;
      if (!match) continue;
      routeKey = m.route;
      invoke = m.invoke;
      if (m.params.length > 0) {
        pathParameters = Object.fromEntries(
          m.params.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? "")]),
        );
      }
      break;
    }
    if (!invoke) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Not Found" }));
      return;
    }

    const headers: Record<string, string> = {};
    let cookies: string[] | undefined;
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      if (name === "cookie") cookies = String(value).split(/;\s*/);
      else headers[name] = Array.isArray(value) ? value.join(",") : value;
    }
    const host = headers.host ?? "gateway";
    headers["x-forwarded-proto"] = "https";
    headers["x-forwarded-port"] = "443";
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "127.0.0.1";
    headers["x-amzn-trace-id"] =
      `Root=1-${Date.now().toString(16)}-${randomBytes(12).toString("hex")}`;
    const query = [...url.searchParams.keys()];
    const contentType = headers["content-type"] ?? "";
    const isBase64Encoded = body.length > 0 && !TEXT.test(contentType);
    const now = new Date();

    const event = {
      version: "2.0",
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      ...(cookies ? { cookies } : {}),
      headers,
      ...(query.length > 0
        ? {
            queryStringParameters: Object.fromEntries(
              query.map((k) => [k, url.searchParams.getAll(k).join(",")]),
            ),
          }
        : {}),
      ...(pathParameters ? { pathParameters } : {}),
      requestContext: {
        accountId: "123456789012",
        apiId,
        domainName: host,
        domainPrefix: host.split(".")[0],
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: headers["x-forwarded-for"],
          userAgent: headers["user-agent"] ?? "",
        },
        requestId: randomBytes(8).toString("base64url"),
        routeKey,
        stage: "$default",
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
      },
      ...(body.length > 0
        ? { body: isBase64Encoded ? body.toString("base64") : body.toString("utf8") }
        : {}),
      isBase64Encoded,
    };

    let result: unknown;
    try {
      result = await invoke(event);
    } catch {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Internal Server Error" }));
      return;
    }
    const reply = (result ?? {}) as {
      statusCode?: number;
      headers?: Record<string, string>;
      cookies?: string[];
      body?: string;
      isBase64Encoded?: boolean;
    };
    const out: Record<string, string | string[]> = { ...(reply.headers ?? {}) };
    if (reply.cookies?.length) out["set-cookie"] = reply.cookies;
    res.writeHead(reply.statusCode ?? 200, out);
    res.end(reply.body ? Buffer.from(reply.body, reply.isBase64Encoded ? "base64" : "utf8") : "");
  }

  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
