import { crc32, deflateSync } from "node:zlib";
import { PNG } from "pngjs";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { ImageCopyError } from "../../functions/core/images.ts";
import type { SourceFile } from "../../functions/core/ports.ts";
import { createSharpProcessor, MAX_INPUT_PIXELS } from "../../functions/images/processor.ts";

/** sharp at work on real encoded images: grids split exactly, thumbnails, bad input. */

const processor = createSharpProcessor();

/** A 2×2 grid whose quadrants are flat red, green, blue and white. */
const COLORS = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 255],
] as const;

function gridPng(width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const q = (y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1);
      const [r, g, b] = COLORS[q] ?? [0, 0, 0];
      png.data.set([r, g, b, 255], (y * width + x) * 4);
    }
  }
  return PNG.sync.write(png);
}

const file = (bytes: Buffer, contentType: string): SourceFile => ({
  bytes: new Uint8Array(bytes),
  contentType,
});

async function centreColour(bytes: Uint8Array) {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const i = (Math.floor(info.height / 2) * info.width + Math.floor(info.width / 2)) * info.channels;
  return [data[i], data[i + 1], data[i + 2]];
}

describe("splitGrid", () => {
  it("cuts a PNG grid into four PNG quadrants of exactly half its size, in reading order", async () => {
    const quadrants = await processor.splitGrid(file(gridPng(200, 120), "image/png"));
    expect(quadrants.map((q) => [q.contentType, q.width, q.height])).toEqual(
      Array(4).fill(["image/png", 100, 60]),
    );
    for (const [i, quadrant] of quadrants.entries()) {
      const meta = await sharp(quadrant.bytes).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(["png", 100, 60]);
      expect(await centreColour(quadrant.bytes)).toEqual([...(COLORS[i] ?? [])]);
      // a quadrant is one flat colour: no pixel of a neighbour leaked in
      const { data } = await sharp(quadrant.bytes).raw().toBuffer({ resolveWithObject: true });
      const first = [...data.subarray(0, 3)];
      for (let p = 0; p < data.length; p += 4) {
        expect([data[p], data[p + 1], data[p + 2]]).toEqual(first);
      }
    }
  });

  it("keeps a JPEG grid's format, and turns a GIF grid's quadrants into PNG", async () => {
    const jpeg = await sharp(gridPng(64, 64)).jpeg().toBuffer();
    const fromJpeg = await processor.splitGrid(file(jpeg, "image/jpeg"));
    expect(fromJpeg.map((q) => [q.contentType, q.width])).toEqual(
      Array(4).fill(["image/jpeg", 32]),
    );
    expect((await sharp(fromJpeg[0]?.bytes).metadata()).format).toBe("jpeg");

    const gif = await sharp(gridPng(64, 64)).gif().toBuffer();
    const fromGif = await processor.splitGrid(file(gif, "image/gif"));
    expect(fromGif.map((q) => q.contentType)).toEqual(Array(4).fill("image/png"));
  });

  it("gives an odd-sized grid four equal quadrants (the middle line is dropped)", async () => {
    const quadrants = await processor.splitGrid(file(gridPng(101, 61), "image/png"));
    expect(quadrants.map((q) => [q.width, q.height])).toEqual(Array(4).fill([50, 30]));
  });
});

describe("thumbnail", () => {
  it("fits a large image into 320 px on its longer side, as WebP", async () => {
    const wide = await sharp({
      create: { width: 1000, height: 500, channels: 3, background: "#336699" },
    })
      .png()
      .toBuffer();
    const thumbnail = await processor.thumbnail(file(wide, "image/png"), 320);
    expect(thumbnail).toMatchObject({ contentType: "image/webp", width: 320, height: 160 });
    const meta = await sharp(thumbnail.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 320, 160]);
  });

  it("never enlarges a small image", async () => {
    const thumbnail = await processor.thumbnail(file(gridPng(40, 30), "image/png"), 320);
    expect([thumbnail.width, thumbnail.height]).toEqual([40, 30]);
  });
});

describe("input that does not decode", () => {
  /**
   * A valid 1-bit greyscale PNG of width × height black pixels: 50 M pixels deflate to a few KB,
   * well under any download cap. Decoded, it would take 150 MB as RGB.
   */
  function bombPng(width: number, height: number): Buffer {
    const chunk = (type: string, data: Buffer) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(data.length);
      const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(body));
      return Buffer.concat([length, body, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr.set([1, 0, 0, 0, 0], 8);
    const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height);
    return Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk("IHDR", ihdr),
      chunk("IDAT", deflateSync(rows, { level: 9 })),
      chunk("IEND", Buffer.alloc(0)),
    ]);
  }

  it("refuses a decompression bomb (more pixels than the limit) before decoding it", async () => {
    const side = Math.ceil(Math.sqrt(MAX_INPUT_PIXELS)) + 1;
    const bytes = bombPng(side, side);
    expect(bytes.byteLength).toBeLessThan(64 * 1024);
    const bomb = file(bytes, "image/png");
    for (const work of [
      () => processor.measure(bomb),
      () => processor.splitGrid(bomb),
      () => processor.thumbnail(bomb, 320),
    ]) {
      const error = await work().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImageCopyError);
      expect((error as ImageCopyError).reason).toMatch(/^undecodable: .*exceeds pixel limit/);
    }
  });

  it("answers bytes with an image's signature but no image as undecodable", async () => {
    const truncated = file(gridPng(64, 64).subarray(0, 60), "image/png");
    const error = await processor.splitGrid(truncated).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImageCopyError);
    expect((error as ImageCopyError).code).toBe("undecodable");
  });
});
