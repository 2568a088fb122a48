import type { SQSClient } from "@aws-sdk/client-sqs";
import { ConfigError } from "../config.ts";
import { type ImagineInput, submitImagine } from "../core/submit.ts";
import { type BatchResponse, consumeImagineBatch, type QueueRecord } from "../queue/consumer.ts";
import { createQueueActions } from "../queue/sqs-actions.ts";
import type { Overrides, SettingsOf } from "./settings.ts";
import { submitDepsFor } from "./submit.ts";

/**
 * The imagine queue's consumer (docs/queue-and-bus.md): submit's code, fed by SQS
 * batches; answers Lambda's partial batch response.
 */
export function composeQueueConsumer(
  config: SettingsOf<"queue">,
  overrides: Overrides & { sqsClient?: SQSClient } = {},
): (records: QueueRecord[]) => Promise<BatchResponse> {
  const { IMAGINE_QUEUE_URL: queueUrl, IMAGINE_DLQ_URL: deadLetterQueueUrl } = config;
  if (!queueUrl || !deadLetterQueueUrl) {
    throw new ConfigError(
      "paperboat: the queue consumer needs IMAGINE_QUEUE_URL and IMAGINE_DLQ_URL",
    );
  }
  // a busy attempt is re-queued as a new task: its FAILURE tells no webhook and no bus
  const submit = { ...submitDepsFor(config, overrides, "queue"), quietWhenBusy: true };
  const deps = {
    owners: new Set(config.API_KEYS.map((k) => k.owner)),
    submitImagine: (owner: string, input: ImagineInput, key: string) =>
      submitImagine(submit, owner, input, key),
    ...createQueueActions({
      queueUrl,
      deadLetterQueueUrl,
      endpoint: config.SQS_ENDPOINT,
      client: overrides.sqsClient,
    }),
    log: submit.log,
  };
  return (records) => consumeImagineBatch(deps, records);
}
