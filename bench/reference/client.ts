import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * The reference's DynamoDB client, built as functions/deps.ts builds the real one (an endpoint
 * and static credentials off AWS, the default provider chain on AWS, undefined values removed)
 * but without paperboat's error-translating middleware.
 */
export function createReferenceClient(endpoint?: string): DynamoDBDocumentClient {
  const client = endpoint
    ? new DynamoDBClient({
        endpoint,
        region: "local",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      })
    : new DynamoDBClient({});
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
