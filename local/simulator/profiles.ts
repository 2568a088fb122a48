/**
 * Host profiles: which real upstream the simulator behaves as (`SIM_PROFILE`). Each profile
 * follows that host's own source:
 *
 * - `cometapi`: a new-api gateway (QuantumNous/new-api) in front of a midjourney-proxy. Auth is
 *   `Authorization: Bearer <key>` (an empty or `midjourney-proxy` Authorization falls back to
 *   `mj-api-secret`); code 21 is rewritten to 1 except for Inpaint and Custom Zoom
 *   (relay/mjproxy_handler.go); fetch serves the gateway's own copy, `status: ""` and
 *   `buttons: null`, until its sync loop has seen the job.
 * - `trueai`: trueai-org/midjourney-proxy. The raw `Authorization` value is the token
 *   (WorkContext.cs: no `Bearer ` stripping), else `Mj-Api-Secret`; code 21 reaches the client.
 * - `novicezk`: novicezk/midjourney-proxy. Only `mj-api-secret` is read
 *   (ApiAuthorizeInterceptor: 401 with an empty body); no buttons, no /submit/action: U, V and
 *   reroll go through /submit/change.
 */
export const SIM_PROFILES = ["cometapi", "trueai", "novicezk"] as const;
export type SimProfile = (typeof SIM_PROFILES)[number];

/** The MJ_API_AUTH each host needs. */
export const PROFILE_AUTH = {
  cometapi: "bearer",
  trueai: "authorization",
  novicezk: "mj-api-secret",
} as const satisfies Record<SimProfile, string>;

/** Whether a request's credential headers carry `apiKey` the way this host reads them. */
export function isAuthorized(
  profile: SimProfile,
  apiKey: string,
  headers: { authorization?: string; mjApiSecret?: string },
): boolean {
  const authorization = headers.authorization ?? "";
  const secret = headers.mjApiSecret ?? "";
  switch (profile) {
    case "cometapi": {
      // new-api middleware/auth.go: an empty or "midjourney-proxy" Authorization falls back
      // to mj-api-secret; otherwise "Bearer " is stripped
      const raw =
        authorization === "" || authorization === "midjourney-proxy" ? secret : authorization;
      return raw.replace(/^Bearer\s+/i, "").trim() === apiKey;
    }
    case "trueai":
      // WorkContext.cs: Authorization when present (taken as is), else Mj-Api-Secret
      return (authorization !== "" ? authorization : secret) === apiKey;
    case "novicezk":
      return secret === apiKey;
  }
}
