import { describe, expect, it } from "vitest";
import { parseNumberedPrompts, updateFromUpstream } from "../../functions/core/from-upstream.ts";
import { buttonEffect } from "../../functions/core/workflow.ts";
import { UpstreamTask } from "../../functions/upstream/schemas.ts";
import {
  describePrompts,
  numbered,
  shortenedPrompts,
  shortenReport,
} from "../../local/simulator/texts.ts";

const H = "0ddb91a0-af46-4ae9-8e8e-c271074eb6e6";

describe("customId → the child task's action (docs/upstreams.md §7, docs/api.md)", () => {
  it.each([
    [`MJ::JOB::upsample::1::${H}`, "UPSCALE", "never"],
    [`MJ::JOB::upsample::4::${H}`, "UPSCALE", "never"],
    [`MJ::JOB::upsample_v6_2x_subtle::1::${H}::SOLO`, "UPSCALE", "never"],
    [`MJ::JOB::upsample_v6r1_2x_creative::1::${H}::SOLO`, "UPSCALE", "never"],
    [`MJ::JOB::upsample_v7_2x_subtle::1::${H}::SOLO`, "UPSCALE", "never"],
    [`MJ::JOB::upsample_v5_4x::1::${H}::SOLO`, "UPSCALE", "never"],
    [`MJ::JOB::variation::3::${H}`, "VARIATION", "maybe"],
    [`MJ::JOB::low_variation::1::${H}::SOLO`, "LOW_VARIATION", "maybe"],
    [`MJ::JOB::high_variation::1::${H}::SOLO`, "HIGH_VARIATION", "maybe"],
    [`MJ::JOB::reroll::0::${H}::SOLO`, "REROLL", "maybe"],
    [`MJ::Outpaint::50::1::${H}::SOLO`, "ZOOM", "never"],
    [`MJ::Outpaint::75::1::${H}::SOLO`, "ZOOM", "never"],
    [`MJ::CustomZoom::${H}`, "CUSTOM_ZOOM", "always"],
    [`MJ::CustomZoom::1::${H}`, "CUSTOM_ZOOM", "always"],
    [`MJ::Inpaint::1::${H}::SOLO`, "INPAINT", "always"],
    [`MJ::JOB::pan_left::1::${H}::SOLO`, "PAN", "maybe"],
    [`MJ::JOB::pan_right::1::${H}::SOLO`, "PAN", "maybe"],
    [`MJ::JOB::pan_up::1::${H}::SOLO`, "PAN", "maybe"],
    [`MJ::JOB::pan_down::1::${H}::SOLO`, "PAN", "maybe"],
    [`MJ::JOB::animate_high::1::${H}::SOLO`, "VIDEO", "maybe"],
    [`MJ::JOB::animate_low::1::${H}::SOLO`, "VIDEO", "maybe"],
    [`MJ::JOB::animate_high_extend::1::${H}`, "VIDEO", "maybe"],
    [`MJ::JOB::video_virtual_upscale::2::${H}`, "UPSCALE", "never"],
    ["MJ::Picread::Retry", "DESCRIBE", "never"],
    [`MJ::BOOKMARK::${H}`, "ACTION", "maybe"],
    ["something::new", "ACTION", "maybe"],
  ])("%s → %s (modal: %s)", (customId, action, modal) => {
    expect(buttonEffect(customId)).toEqual({ kind: "job", action, modal, pick: null });
  });

  it.each([
    ["MJ::Job::PicReader::1", 1],
    ["MJ::Job::PicReader::4", 4],
    ["MJ::Job::PromptAnalyzer::5", 5],
  ])("the pick %s is an IMAGINE of prompt %i, run as an imagine (no modal)", (customId, pick) => {
    expect(buttonEffect(customId)).toEqual({
      kind: "job",
      action: "IMAGINE",
      modal: "never",
      pick,
    });
  });

  it("does not run “Imagine all” (four upstream jobs behind one answer)", () => {
    expect(buttonEffect("MJ::Job::PicReader::all")).toMatchObject({ kind: "unsupported" });
  });
});

describe("describe and shorten texts → prompts", () => {
  it.each([
    [
      "describe, keycap numbers, one paragraph each",
      "1️⃣ a paper boat, watercolor --ar 3:2\n\n2️⃣ a lighthouse at dusk --ar 3:2\n\n3️⃣ origami crane\n\n4️⃣ red kite, film photograph",
      [
        "a paper boat, watercolor --ar 3:2",
        "a lighthouse at dusk --ar 3:2",
        "origami crane",
        "red kite, film photograph",
      ],
    ],
    [
      "shorten: only the items after the heading",
      "## Important tokens\npaper, boat, sunrise\n## Shortened prompts\n1️⃣ a paper boat at sunrise\n\n2️⃣ paper boat sunrise\n\n3️⃣ paper boat",
      ["a paper boat at sunrise", "paper boat sunrise", "paper boat"],
    ],
    ["plain numbers", "1. first prompt\n2) second prompt", ["first prompt", "second prompt"]],
    ["no numbers: one per paragraph", "first\n\nsecond one\n", ["first", "second one"]],
    ["a prompt wrapped over lines", "1️⃣ a long\nprompt\n2️⃣ b", ["a long prompt", "b"]],
    ["nothing", "   ", []],
    ["a number inside a prompt is not an item", "1️⃣ ratio 1.5 wide\n2️⃣ b", ["ratio 1.5 wide", "b"]],
  ])("%s", (_name, text, prompts) => {
    expect(parseNumberedPrompts(text)).toEqual(prompts);
  });

  it("reads back exactly what the simulator wrote", () => {
    const four = describePrompts("seed");
    expect(parseNumberedPrompts(numbered(four))).toEqual(four);
    const prompt = "a paper boat floating on calm water at sunrise, watercolor --v 6.1";
    const shortened = shortenedPrompts(prompt);
    expect(parseNumberedPrompts(shortenReport(prompt, shortened))).toEqual(shortened);
  });
});

describe("terminal updates define the text results", () => {
  const base = { id: "1", progress: "100%", finishTime: 1 };
  it.each([
    [
      "DESCRIBE SUCCESS: from properties.finalPrompt",
      { action: "DESCRIBE", status: "SUCCESS", properties: { finalPrompt: "1️⃣ a\n\n2️⃣ b" } },
      ["a", "b"],
    ],
    [
      "DESCRIBE SUCCESS: from prompt when properties say nothing",
      { action: "DESCRIBE", status: "SUCCESS", prompt: "1️⃣ a\n\n2️⃣ b", properties: {} },
      ["a", "b"],
    ],
    [
      "SHORTEN SUCCESS",
      {
        action: "SHORTEN",
        status: "SUCCESS",
        properties: { finalPrompt: "## Shortened prompts\n1️⃣ x\n\n2️⃣ y" },
      },
      ["x", "y"],
    ],
    [
      "DESCRIBE FAILURE: none",
      { action: "DESCRIBE", status: "FAILURE", properties: { finalPrompt: "1️⃣ a" } },
      [],
    ],
    [
      "IMAGINE SUCCESS: none, whatever its prompt says",
      { action: "IMAGINE", status: "SUCCESS", prompt: "1️⃣ a", properties: { finalPrompt: "1️⃣ a" } },
      [],
    ],
  ])("%s", (_name, fields, prompts) => {
    const update = updateFromUpstream(UpstreamTask.parse({ ...base, ...fields }), new Date());
    expect(update?.prompts).toEqual(prompts);
  });

  it("leaves them alone while the job runs", () => {
    const update = updateFromUpstream(
      UpstreamTask.parse({ id: "1", action: "DESCRIBE", status: "IN_PROGRESS", progress: "50%" }),
      new Date(),
    );
    expect(update).not.toHaveProperty("prompts");
  });
});
