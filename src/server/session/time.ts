/** Milliseconds since epoch as ISO 8601, the wire format of every time the server sends. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** Whole seconds since epoch, as JWT claims count time. */
export const seconds = (ms: number): number => Math.floor(ms / 1000);
