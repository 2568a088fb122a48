import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../../functions/http/body.ts";

/** The depth check every JSON body passes before it is parsed (functions/http/body.ts). */
describe("nestsDeeperThan", () => {
  const nested = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;

  it("finds a body nested one level too deep, and passes one at the limit", () => {
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(`{"a":${nested(MAX_JSON_DEPTH)}}`, MAX_JSON_DEPTH)).toBe(true);
  });

  it("counts depth, not brackets: many siblings and brackets inside strings are shallow", () => {
    const siblings = JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ i, tags: [i] })));
    expect(nestsDeeperThan(siblings, MAX_JSON_DEPTH)).toBe(false);
    const inStrings = JSON.stringify({ prompt: "[{".repeat(200), escaped: '\\"[[[' });
    expect(nestsDeeperThan(inStrings, MAX_JSON_DEPTH)).toBe(false);
    // deep nesting hidden after a string full of brackets is still found
    expect(nestsDeeperThan(`["${"{".repeat(100)}",${nested(70)}]`, MAX_JSON_DEPTH)).toBe(true);
  });
});
