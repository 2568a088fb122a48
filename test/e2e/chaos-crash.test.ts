import { describe, expect, it } from "vitest";
import { runCrashChaos } from "../../bench/chaos-crash-run.ts";
import { dynamodbEndpoint } from "../helpers.ts";

/**
 * Chaos v2, short form (the full run is `npm run bench:chaos-crash`, bench/CHAOS-CRASH.md): the
 * paperboat process is killed with SIGKILL three times mid-run and restarted on the same
 * DATA_DIR, while DynamoDB throttles 5% of requests and the simulator loses, duplicates and
 * reorders webhooks and fails submits. Nothing accepted is lost or goes backwards, no request
 * starts two jobs, and every task's terminal event reaches its receiver.
 */
describe("chaos with crashes", () => {
  it("loses nothing when the whole stack is killed three times", async () => {
    const report = await runCrashChaos({
      tasks: 80,
      concurrency: 12,
      dropAllShare: 0.3,
      duplicateReorderShare: 0.3,
      submitFailure: 0.1,
      clientRetryShare: 0.3,
      taskFailure: 0.05,
      throttleShare: 0.05,
      kills: 3,
      reconcileIntervalSeconds: 1,
      stepMs: 30,
      seed: 11,
      settleSeconds: 100,
      dynamodbEndpoint: dynamodbEndpoint(),
    });
    expect(report.kills).toHaveLength(3);
    expect(report.accepted).toBeGreaterThan(40);
    expect(report.lost).toEqual([]);
    expect(report.regressions).toBe(0);
    expect(report.jobsPerAccepted.more).toBe(0);
    expect(report.inconsistentReplays).toBe(0);
    expect(report.events.missing).toEqual([]);
    expect(report.events.wrongType).toBe(0);
    expect(report.events.extra).toBe(0);
  }, 300_000);
});
