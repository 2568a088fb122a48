import { createHash } from "node:crypto";
import { PNG } from "pngjs";

/** Pixel size of a result, from the blend `dimensions` (2:3, 1:1, 3:2). */
export interface Size {
  width: number;
  height: number;
}

export const SQUARE: Size = { width: 512, height: 512 };

interface Pattern {
  rgb: [number, number, number];
  shade: [number, number, number];
  kind: number;
  frequency: number;
}

/** Four patterns with hues a quarter-turn apart, all derived from the seed text. */
function patterns(seedText: string): Pattern[] {
  const bytes = createHash("sha256").update(seedText).digest();
  const at = (i: number) => bytes[i] ?? 0;
  const baseHue = (at(0) / 256) * 360;
  return [0, 1, 2, 3].map((q) => {
    const hue = (baseHue + q * 90 + (at(1 + q) % 30)) % 360;
    return {
      rgb: hsv(hue, 0.75, 0.95),
      shade: hsv((hue + 180) % 360, 0.6, 0.3),
      kind: at(5 + q) % 4,
      frequency: 3 + (at(9 + q) % 10),
    };
  });
}

function hsv(h: number, s: number, v: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h / 60) % 6;
    return Math.round(255 * (v - v * s * Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return [f(5), f(3), f(1)];
}

/** Whether (u, v) in [0,1)² falls on the pattern's foreground. */
function isForeground(pattern: Pattern, u: number, v: number): boolean {
  const f = pattern.frequency;
  switch (pattern.kind) {
    case 0:
      return Math.floor(v * f * 2) % 2 === 0;
    case 1:
      return Math.floor(u * f * 2) % 2 === 0;
    case 2:
      return Math.floor(Math.hypot(u - 0.5, v - 0.5) * f * 4) % 2 === 0;
    default:
      return (Math.floor(u * f) + Math.floor(v * f)) % 2 === 0;
  }
}

function paint(
  data: Buffer,
  stride: number,
  area: { x: number; y: number; width: number; height: number },
  pattern: Pattern,
  brightness: number,
): void {
  for (let y = 0; y < area.height; y++) {
    for (let x = 0; x < area.width; x++) {
      const color = isForeground(pattern, x / area.width, y / area.height)
        ? pattern.rgb
        : pattern.shade;
      const i = ((area.y + y) * stride + area.x + x) * 3;
      data[i] = color[0] * brightness;
      data[i + 1] = color[1] * brightness;
      data[i + 2] = color[2] * brightness;
    }
  }
}

function encode(size: Size, data: Buffer): Buffer {
  const png = new PNG({ ...size, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = data;
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

const GUTTER = 4;

/**
 * A 2×2 grid like Midjourney's: four visibly different quadrants derived from a hash of
 * `seedText`, separated by a light gutter. `dim` renders the darker in-progress preview.
 */
export function renderGrid(seedText: string, size: Size, dim = false): Buffer {
  const data = Buffer.alloc(size.width * size.height * 3, 235);
  const w = Math.floor((size.width - GUTTER) / 2);
  const h = Math.floor((size.height - GUTTER) / 2);
  patterns(seedText).forEach((pattern, q) => {
    const area = {
      x: q % 2 === 0 ? 0 : size.width - w,
      y: q < 2 ? 0 : size.height - h,
      width: w,
      height: h,
    };
    paint(data, size.width, area, pattern, dim ? 0.45 : 1);
  });
  return encode(size, data);
}

/** Quadrant `index` (1–4) of the grid of `seedText`, alone at full size: an upscale. */
export function renderQuadrant(seedText: string, index: number, size: Size, dim = false): Buffer {
  const data = Buffer.alloc(size.width * size.height * 3);
  const pattern = patterns(seedText)[(index - 1) % 4];
  if (pattern) paint(data, size.width, { x: 0, y: 0, ...size }, pattern, dim ? 0.45 : 1);
  return encode(size, data);
}

/**
 * A few bytes that start like an MP4 (`ftyp` box) for video results; not playable, only
 * something real to download and store.
 */
export function renderVideo(seedText: string): Buffer {
  const ftyp = Buffer.concat([
    Buffer.from([0, 0, 0, 24]),
    Buffer.from("ftypisom", "ascii"),
    Buffer.from([0, 0, 2, 0]),
    Buffer.from("isomiso2", "ascii"),
  ]);
  const payload = createHash("sha256").update(seedText).digest();
  const free = Buffer.concat([
    Buffer.from([0, 0, 0, 8 + payload.length]),
    Buffer.from("free"),
    payload,
  ]);
  return Buffer.concat([ftyp, free]);
}
