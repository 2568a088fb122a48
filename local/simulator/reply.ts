import { DISCORD_INSTANCE_ID, type SimTask } from "./task.ts";

/** An answer as data; app.ts turns it into HTTP. `hold` = the timeout fault. */
export type Reply =
  | { kind: "json"; status: number; body: unknown }
  | { kind: "text"; status: number; body: string; contentType: string }
  | { kind: "empty"; status: number }
  | { kind: "hold" };

export function json(body: unknown, status = 200): Reply {
  return { kind: "json", status, body };
}

/** The `SubmitResultVO` envelope every submit answers with. */
export function submitResult(
  code: number,
  description: string,
  result: string | null = null,
  properties: Record<string, unknown> = {},
  status = 200,
): Reply {
  return json({ code, description, result, properties }, status);
}

/** code 1 (or 21/22) with the task id and the instance ids TA (and CometAPI) put beside it. */
export function accepted(
  task: SimTask,
  code = 1,
  description = "Submit success",
  properties: Record<string, unknown> = {},
): Reply {
  return submitResult(code, description, task.id, {
    discordInstanceId: DISCORD_INSTANCE_ID,
    discordChannelId: DISCORD_INSTANCE_ID,
    ...properties,
  });
}

/** TA's second envelope (`CustomLogicExceptionFilterAttribute`), with a .NET ticks timestamp. */
export function logicEnvelope(message: string, status: number): Reply {
  const ticks = BigInt(Date.now()) * 10_000n + 621_355_968_000_000_000n;
  return json({ success: false, code: -1, message, timestamp: ticks.toString() }, status);
}
