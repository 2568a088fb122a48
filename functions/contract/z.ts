/**
 * zod, the small build: `zod/mini` (functional API, a fraction of classic zod's bytes and start
 * time) with English messages. Every schema of functions/ imports zod from here, so every
 * validation error reads the same as it did with classic zod (docs/api.md's `details`).
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

export * from "zod/mini";
