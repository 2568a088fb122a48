import { randomUUID } from "node:crypto";

/** An API Gateway HTTP API (payload v2.0) event, as Lambda receives it. */
export function apiGatewayV2Event(request: {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  routeKey?: string;
}) {
  const now = new Date();
  const headers = {
    accept: "*/*",
    host: "abc123.execute-api.us-east-1.amazonaws.com",
    "user-agent": "curl/8.5.0",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    ...(request.body === undefined
      ? {}
      : {
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(request.body)),
        }),
    ...request.headers,
  };
  return {
    version: "2.0",
    routeKey: request.routeKey ?? `${request.method} ${request.path}`,
    rawPath: request.path,
    rawQueryString: request.query ?? "",
    headers,
    queryStringParameters: request.query
      ? Object.fromEntries(new URLSearchParams(request.query).entries())
      : undefined,
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: headers.host,
      domainPrefix: "abc123",
      http: {
        method: request.method,
        path: request.path,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "curl/8.5.0",
      },
      requestId: randomUUID(),
      routeKey: request.routeKey ?? `${request.method} ${request.path}`,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: request.body,
    isBase64Encoded: false,
  };
}

/** An EventBridge scheduled event (what sst.aws.CronV2 delivers). */
export function scheduledEvent() {
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "Scheduled Event",
    source: "aws.scheduler",
    account: "123456789012",
    time: new Date().toISOString(),
    region: "us-east-1",
    resources: ["arn:aws:scheduler:us-east-1:123456789012:schedule/default/paperboat-reconcile"],
    detail: {},
  };
}

/** The Lambda context's fields that handlers may touch. */
export function lambdaContext(functionName: string) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2026/11/25/[$LATEST]abc",
    getRemainingTimeInMillis: () => 10_000,
    done() {},
    fail() {},
    succeed() {},
  };
}
