import * as z from "./z.ts";

const IMAGE_SIGNATURES: [string, number[]][] = [
  ["png", [0x89, 0x50, 0x4e, 0x47]],
  ["jpeg", [0xff, 0xd8, 0xff]],
  ["gif", [0x47, 0x49, 0x46, 0x38]],
  ["webp", [0x52, 0x49, 0x46, 0x46]],
];

/** `data:image/<png|jpeg|gif|webp>;base64,...` whose bytes really start like that image type. */
export const ImageDataUri = /* @__PURE__ */ z.onDemand(() =>
  z.string().check(
    z.regex(/^data:image\/(png|jpe?g|gif|webp);base64,[A-Za-z0-9+/]+={0,2}$/, {
      message: "expected a data URI of a PNG, JPEG, GIF or WebP image (data:image/png;base64,...)",
      // not a data URI at all: its bytes need no second complaint
      abort: true,
    }),
    z.refine(
      (uri) => {
        const comma = uri.indexOf(",");
        const head = Buffer.from(uri.slice(comma + 1, comma + 17), "base64");
        return IMAGE_SIGNATURES.some(([, sig]) => sig.every((byte, i) => head[i] === byte));
      },
      { message: "the data URI's bytes are not a PNG, JPEG, GIF or WebP image" },
    ),
  ),
);

/** `POST /v1/uploads`: one image, kept as our own copy (docs/images.md "Uploads"). */
export const UploadBody = /* @__PURE__ */ z.onDemand(() =>
  z.strictObject({ image: z.built(ImageDataUri) }),
);
export type UploadBody = z.infer<typeof UploadBody>;

/** `201` of `POST /v1/uploads`. */
export const UploadResponse = /* @__PURE__ */ z.onDemand(() =>
  z.object({
    url: z.url(),
    expiresAt: z.iso.datetime(),
  }),
);
export type UploadResponse = z.infer<typeof UploadResponse>;
