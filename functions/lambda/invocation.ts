import { withLogScope } from "../log.ts";

/**
 * A Lambda handler whose log lines all carry the invocation's request id (`awsRequestId`):
 * Lambda's JSON log format adds it only to console.* output, and functions/log.ts writes to
 * stdout itself. Every entry in functions/lambda/ exports its handlers through this.
 */
export function perInvocation<E, C extends { awsRequestId?: string } | undefined, R>(
  handler: (event: E, context: C) => Promise<R>,
): (event: E, context: C) => Promise<R> {
  return (event, context) =>
    withLogScope({ awsRequestId: context?.awsRequestId }, () => handler(event, context));
}
