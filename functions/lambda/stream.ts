import { streamHandle } from "hono/aws-lambda";
import { STREAM_SETTINGS } from "../compose/settings.ts";
import { composeStreamApp } from "../compose/stream.ts";
import { loadSettings } from "../config.ts";
import { readSettings } from "../platform.ts";

/**
 * Lambda entry of the stream function, behind a function URL with response streaming (API
 * Gateway buffers answers, so it cannot carry a live stream): config → deps → app, once per
 * warm container.
 */
export const handler = streamHandle(
  composeStreamApp(loadSettings(readSettings(), STREAM_SETTINGS)),
);
