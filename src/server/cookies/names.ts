/** The names of the cookies for one request, which depend on whether it is https. */
export interface CookieNames {
  sessionToken: string;
  csrfToken: string;
  /** The database strategy's session cache (`session.cookieCache`): the row, sealed, so polls skip the store. */
  sessionData: string;
}

/**
 * Auth.js v5 names: `__Secure-` on the session cookie (its name is also the key
 * derivation salt, so Auth.js cookies stay readable) and `__Host-` on the CSRF
 * cookie, which a sibling subdomain can then neither set nor overwrite.
 */
export function cookieNames(prefix: string, secure: boolean): CookieNames {
  return {
    sessionToken: `${secure ? "__Secure-" : ""}${prefix}.session-token`,
    csrfToken: `${secure ? "__Host-" : ""}${prefix}.csrf-token`,
    sessionData: `${secure ? "__Secure-" : ""}${prefix}.session-data`,
  };
}
