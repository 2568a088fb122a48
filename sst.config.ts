/// <reference path="./.sst/platform/config.d.ts" />

/**
 * paperboat on AWS. `npx sst deploy --stage <stage>`; `npx sst dev` for live mode.
 * Every stage holds data, and is protected, unless its name marks it as throw-away: `ci`, and
 * names starting with `pr-`, `dev` or `test`. A protected stage (prod, staging, ...) is refused by
 * `sst remove`, its resources are retained, its table has deletion protection and point-in-time
 * recovery, its image bucket is never emptied by a removal, and its logs are kept longer.
 */
export default $config({
  app(input) {
    const holdsData = !/^(ci$|pr-|dev|test)/.test(input?.stage ?? "");
    return {
      name: "paperboat",
      home: "aws",
      removal: holdsData ? "retain" : "remove",
      protect: holdsData,
    };
  },
  async run() {
    const { table, images } = await import("./infra/storage.ts");
    await import("./infra/secrets.ts");
    await import("./infra/young-polls.ts");
    const { api, callbackUrl } = await import("./infra/api.ts");
    const { stream } = await import("./infra/stream.ts");
    await import("./infra/jobs.ts");
    const { bus } = await import("./infra/events.ts");
    const { imagineQueue } = await import("./infra/queue.ts");
    return {
      api: api.url,
      callbackUrl,
      table: table.name,
      images: images.name,
      bus: bus.name,
      imagineQueue: imagineQueue.url,
      // the live task stream's base URL (client option eventsUrl, PAPERBOAT_EVENTS_URL)
      events: stream.url,
    };
  },
});
