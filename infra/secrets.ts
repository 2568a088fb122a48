import { LINKS } from "../functions/platform.ts";

/**
 * Per-stage values, stored encrypted by SST (`npx sst secret set <Name> <value> --stage <stage>`)
 * and handed only to the functions that link them. Component names come from LINKS, the table
 * that functions/platform.ts reads them back by.
 */

/** The upstream credential: submit and the reconciler only. */
export const mjApiKey = new sst.Secret(LINKS.MJ_API_KEY.resource);

/**
 * Not secret, but per stage and changeable without a code edit; CometAPI unless set. A
 * comma-separated list names several upstreams (MjApiKey, MjApiAuth and MjApiKind then hold one
 * value per upstream, or one for all): docs/upstreams.md "Several upstreams".
 */
export const mjApiBaseUrl = new sst.Secret(
  LINKS.MJ_API_BASE_URL.resource,
  "https://api.cometapi.com",
);

/** How the key is sent (`bearer`, `mj-api-secret`, `authorization`): bearer unless set. */
export const mjApiAuth = new sst.Secret(LINKS.MJ_API_AUTH.resource, "bearer");

/** The host's protocol (`proxy`, `novicezk`): proxy unless set. Submit only. */
export const mjApiKind = new sst.Secret(LINKS.MJ_API_KIND.resource, "proxy");

/** Signs (submit) and verifies (callback) the correlation `state` tokens. */
export const callbackSecret = new sst.Secret(LINKS.CALLBACK_SECRET.resource);

/** The service's own clients, `owner:key,owner:key`: submit and read. */
export const apiKeys = new sst.Secret(LINKS.API_KEYS.resource);

/**
 * Derives every owner's `whsec_` webhook signing secret (docs/webhooks.md):
 * the webhooks function (to show it) and the dispatcher (to sign) only.
 */
export const webhookSecret = new sst.Secret(LINKS.WEBHOOK_SECRET.resource);

/** The operator's credential for `/v1/admin/*` (owners' API keys): the admin function only. */
export const adminKey = new sst.Secret(LINKS.ADMIN_KEY.resource);
