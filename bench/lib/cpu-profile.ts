import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Bundle } from "../../test/infra/sst-bundle.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Where each line of an unminified esbuild bundle comes from: esbuild starts every module with
 * a `// node_modules/<pkg>/...` or `// functions/...` comment line.
 */
export async function bundleLineOwners(bundle: Bundle): Promise<string[]> {
  const lines = (await readFile(join(bundle.dir, bundle.file), "utf8")).split("\n");
  const owners: string[] = [];
  let owner = "esbuild runtime helpers";
  for (const line of lines) {
    // the path is relative to the working directory, and may climb out of it (../node_modules)
    const module = /^\/\/ (\S+\.[cm]?[jt]sx?)$/.exec(line);
    if (module?.[1]) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(module[1]);
      owner = pkg?.[1] ?? "(paperboat code)";
    }
    owners.push(owner);
  }
  return owners;
}

/** The category a sampled frame's time goes to. */
function categorize(frame: ProfileNode["callFrame"], bundleFile: string, owners: string[]): string {
  const { url, functionName } = frame;
  if (url.endsWith(bundleFile)) return owners[frame.lineNumber] ?? "(bundle)";
  if (url.includes("undici")) return "Node: global fetch (undici), first use";
  if (url.startsWith("node:internal/modules")) return "Node: module loader (read, parse, compile)";
  if (url.startsWith("node:")) return "Node: other internals";
  if (url.endsWith("lambda-runner.mjs") || url.endsWith("cpu-profile-preload.mjs"))
    return "the runner (test/infra/lambda-runner.mjs)";
  if (functionName === "(idle)") return "idle (waiting on I/O)";
  if (functionName === "(garbage collector)") return "garbage collector";
  if (functionName === "(program)") return "V8 (program: parse, compile, ICs)";
  return "native calls";
}

/** Milliseconds of sampled time per category in one profile. */
export async function profileByCategory(
  file: string,
  bundle: Bundle,
  owners: string[],
): Promise<Map<string, number>> {
  const profile = JSON.parse(await readFile(file, "utf8")) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    if (!node) return;
    const key = categorize(node.callFrame, bundle.file, owners);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return totals;
}
