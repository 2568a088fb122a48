import type { Sharp, SharpOptions } from "sharp";
import { ImageCopyError } from "../core/images.ts";
import type { EncodedImage, ImageProcessor, SourceFile } from "../core/ports.ts";

/**
 * A decompression bomb guard: a 20 MiB PNG can hold billions of pixels. Midjourney's largest
 * results (4× upscales) are 4096×4096 = 16.8 M pixels.
 */
export const MAX_INPUT_PIXELS = 50_000_000;

type SharpFactory = (input: Uint8Array, options?: SharpOptions) => Sharp;

let loaded: Promise<SharpFactory> | undefined;

/**
 * sharp (libvips) is loaded on first use, not at cold start: most reconciler runs copy
 * nothing, and only this function's bundle carries it (infra/jobs.ts installs it for Lambda's
 * linux-arm64; SST leaves `sharp` out of the bundle).
 */
function loadSharp(): Promise<SharpFactory> {
  loaded ??= import("sharp").then((module) => {
    const sharp = module.default;
    // a long-lived process (the local stack, a warm Lambda) should not keep decoded images
    sharp.cache(false);
    return sharp as unknown as SharpFactory;
  });
  return loaded;
}

/** Output settings per source format: quadrants keep the grid's format (GIF becomes PNG). */
function encodeLike(image: Sharp, contentType: string): { image: Sharp; contentType: string } {
  switch (contentType) {
    case "image/jpeg":
      return { image: image.jpeg({ quality: 92, mozjpeg: true }), contentType };
    case "image/webp":
      return { image: image.webp({ quality: 92 }), contentType };
    default:
      return { image: image.png(), contentType: "image/png" };
  }
}

async function encoded(image: Sharp, contentType: string): Promise<EncodedImage> {
  const { data, info } = await image.toBuffer({ resolveWithObject: true });
  return { bytes: new Uint8Array(data), contentType, width: info.width, height: info.height };
}

/** Runs `work`; anything libvips refuses becomes an `undecodable` ImageCopyError. */
async function decoding<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ImageCopyError) throw error;
    throw new ImageCopyError(
      "undecodable",
      `the image does not decode: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** Image processing with sharp: measuring, splitting a grid, thumbnails. */
export function createSharpProcessor(): ImageProcessor {
  const open = async (file: SourceFile) =>
    (await loadSharp())(file.bytes, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" });

  async function measure(file: SourceFile) {
    return decoding(async () => {
      const { width, height } = await (await open(file)).metadata();
      if (!width || !height) throw new ImageCopyError("undecodable", "the image has no size");
      return { width, height };
    });
  }

  return {
    measure,

    async splitGrid(file) {
      return decoding(async () => {
        const { width, height } = await measure(file);
        // Midjourney grids are even-sized with no gutter: each quadrant is exactly half
        const w = Math.floor(width / 2);
        const h = Math.floor(height / 2);
        if (w < 1 || h < 1) throw new ImageCopyError("undecodable", "the grid is too small");
        const corners = [
          { left: 0, top: 0 },
          { left: width - w, top: 0 },
          { left: 0, top: height - h },
          { left: width - w, top: height - h },
        ];
        const quadrants: EncodedImage[] = [];
        for (const corner of corners) {
          const { image, contentType } = encodeLike(
            (await open(file)).extract({ ...corner, width: w, height: h }),
            file.contentType,
          );
          quadrants.push(await encoded(image, contentType));
        }
        return quadrants;
      });
    },

    async thumbnail(file, maxSide) {
      return decoding(async () =>
        encoded(
          (await open(file))
            .resize({ width: maxSide, height: maxSide, fit: "inside", withoutEnlargement: true })
            .webp({ quality: 75 }),
          "image/webp",
        ),
      );
    },
  };
}
