/// <reference path="./.sst/platform/config.d.ts" />

/**
 * paperboat on AWS. `npx sst deploy --stage <stage>`; `npx sst dev` for live mode.
 * The stage named "prod" is protected: `sst remove` refuses it, and its table and logs are kept.
 */
export default $config({
  app(input) {
    const isProduction = input?.stage === "prod";
    return {
      name: "paperboat",
      home: "aws",
      removal: isProduction ? "retain" : "remove",
      protect: isProduction,
    };
  },
  async run() {
    const { table, images } = await import("./infra/storage.ts");
    await import("./infra/secrets.ts");
    const { api, callbackUrl } = await import("./infra/api.ts");
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
    };
  },
});
