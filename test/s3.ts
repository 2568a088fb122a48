import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The part of s3rver (a CommonJS package without types) these tests use. */
interface S3rverServer {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverServer;

/**
 * An S3-compatible server on 127.0.0.1 (s3rver: pure JavaScript, files in a temporary folder),
 * with one bucket. It speaks S3's REST API (PutObject, GetObject, path-style, SigV4 query
 * presigning) but does not verify SigV4 signatures: a test can show that a presigned URL opens,
 * not that a forged one would be refused. Real S3 is not reachable from here.
 */
export async function startS3(bucket: string) {
  const require = createRequire(import.meta.url);
  const S3rver = require("s3rver") as S3rverClass;
  // our S3 client signs with the key pair `local`/`local` whenever an endpoint is given (as the
  // DynamoDB client does for DynamoDB Local); s3rver only knows its own pair until told
  const accounts = require("s3rver/lib/models/account.js") as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  accounts.DUMMY_ACCOUNT.createKeyPair("local", "local");
  const directory = await mkdtemp(join(tmpdir(), "paperboat-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    directory,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export type S3Server = Awaited<ReturnType<typeof startS3>>;
