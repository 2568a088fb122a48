import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Config } from "../config.ts";
import { createSqsClient, createYoungPollScheduler } from "../queue/sqs-actions.ts";

/**
 * Submit's young-poll sender (functions/queue/young-polls.ts) when the young-polls queue is
 * configured (AWS: linked), else none. Its own module, so only the entries that submit (submit,
 * the imagine queue's consumer) carry the SQS client.
 */
export function scheduleYoungPollsFor(
  config: Pick<Config, "YOUNG_POLLS_QUEUE_URL" | "SQS_ENDPOINT">,
  overrides: { sqsClient?: SQSClient } = {},
): ((taskId: string) => Promise<void>) | undefined {
  if (!config.YOUNG_POLLS_QUEUE_URL) return undefined;
  return createYoungPollScheduler({
    queueUrl: config.YOUNG_POLLS_QUEUE_URL,
    client: overrides.sqsClient ?? createSqsClient({ endpoint: config.SQS_ENDPOINT }),
  });
}
