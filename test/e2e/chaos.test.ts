import { describe, expect, it } from "vitest";
import { runChaos } from "../../bench/chaos-run.ts";
import { dynamodbEndpoint } from "../helpers.ts";

/**
 * The short form of the chaos run (bench/chaos.ts runs 1,000 tasks): lost, duplicated and
 * reordered webhooks, failing submits and clients retrying with the same Idempotency-Key.
 */
describe("chaos (short form)", () => {
  it("loses nothing, never steps back, and starts exactly one upstream job per accepted request", async () => {
    const report = await runChaos({
      tasks: 120,
      concurrency: 12,
      dropAllShare: 0.3,
      duplicateReorderShare: 0.3,
      submitFailure: 0.1,
      clientRetryShare: 0.3,
      taskFailure: 0.05,
      reconcileIntervalSeconds: 1,
      stepMs: 20,
      seed: 20261125,
      dynamodbEndpoint: dynamodbEndpoint(),
    });
    expect(report.accepted).toBeGreaterThan(80);
    expect(Object.values(report.refusedAtSubmit).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(report.lost).toEqual([]);
    expect(report.terminalMatchingTruth).toBe(report.accepted);
    expect(report.regressions).toBe(0);
    expect(report.pollReads).toBeGreaterThan(100);
    expect(report.jobsPerAccepted).toEqual({ exactlyOne: report.accepted, none: 0, more: 0 });
    expect(report.jobsForRefused).toBe(0);
    expect(report.inconsistentReplays).toBe(0);
    expect(report.replays).toBeGreaterThan(10);
    expect(report.dynamodb.total.Scan ?? 0).toBe(0);
  }, 120_000);

  it("with two upstreams, one refusing connections and failing submits part of the time, still starts exactly one job per accepted request", async () => {
    const report = await runChaos({
      tasks: 80,
      concurrency: 8,
      dropAllShare: 0.2,
      duplicateReorderShare: 0.3,
      submitFailure: 0.05,
      clientRetryShare: 0.3,
      taskFailure: 0.05,
      reconcileIntervalSeconds: 1,
      stepMs: 20,
      seed: 20261202,
      dynamodbEndpoint: dynamodbEndpoint(),
      failover: { refusingMs: 400, cycleMs: 1200, submitFailure: 0.3 },
    });
    expect(report.accepted).toBeGreaterThan(60);
    expect(report.lost).toEqual([]);
    expect(report.terminalMatchingTruth).toBe(report.accepted);
    expect(report.regressions).toBe(0);
    expect(report.jobsPerAccepted).toEqual({ exactlyOne: report.accepted, none: 0, more: 0 });
    expect(report.jobsForRefused).toBe(0);
    expect(report.inconsistentReplays).toBe(0);
    // both upstreams ran jobs, and the flaky one was asked more often than it started one
    expect(report.jobsPerUpstream?.flaky).toBeGreaterThan(0);
    expect(report.jobsPerUpstream?.steady).toBeGreaterThan(0);
    expect(report.jobsPerUpstream?.flakySubmits).toBeGreaterThan(
      report.jobsPerUpstream?.flaky ?? 0,
    );
  }, 120_000);
});
