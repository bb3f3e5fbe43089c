/**
 * A least-recently-used cache bounded twice: by its number of entries and by
 * the bytes they hold, whichever is reached first. A `Map` finds an entry by
 * key; the entries also form a doubly linked list, most recently used first,
 * so a hit moves one node and an eviction takes the last one, in constant
 * time. (Recency kept by the `Map`'s own order instead, deleting and setting
 * a key on each hit, measured 30 µs a hit at 5,000 entries in V8: each delete
 * leaves a hole that iteration and rehashing then walk.) No timers and no
 * clock: what is fresh enough is the caller's rule, checked on every read
 * (see jwt-format.ts, the only user).
 */
export interface LruBounds {
  /** Most entries held at once; at least 1. */
  maxEntries: number;
  /** Most bytes held at once, by the sizes given to {@link LruCache.set}; at least 1. */
  maxBytes: number;
}

/** A bounded LRU map from strings; see {@link createLruCache}. */
export interface LruCache<V> {
  /** Entries held now. */
  readonly size: number;
  /** Bytes held now (the sum of the sizes the entries were set with). */
  readonly bytes: number;
  /** The value for `key`, which becomes the most recently used; undefined when absent. */
  get(key: string): V | undefined;
  /**
   * Stores `value` as the most recently used, evicting the least recently used
   * entries until both bounds hold. A value larger than `maxBytes` on its own
   * is not stored (and evicts nothing): one huge entry must not empty the cache.
   */
  set(key: string, value: V, bytes: number): void;
  /** Removes `key`; true when it was there. */
  delete(key: string): boolean;
}

interface Node<V> {
  key: string;
  value: V;
  bytes: number;
  /** Towards the most recently used end; null at it. */
  newer: Node<V> | null;
  /** Towards the least recently used end; null at it. */
  older: Node<V> | null;
}

export function createLruCache<V>({ maxEntries, maxBytes }: LruBounds): LruCache<V> {
  const nodes = new Map<string, Node<V>>();
  let newest: Node<V> | null = null;
  let oldest: Node<V> | null = null;
  let bytes = 0;

  function unlink(node: Node<V>): void {
    if (node.newer) node.newer.older = node.older;
    else newest = node.older;
    if (node.older) node.older.newer = node.newer;
    else oldest = node.newer;
    node.newer = node.older = null;
  }

  function pushNewest(node: Node<V>): void {
    node.older = newest;
    if (newest) newest.newer = node;
    else oldest = node;
    newest = node;
  }

  function remove(key: string): boolean {
    const node = nodes.get(key);
    if (node === undefined) return false;
    nodes.delete(key);
    unlink(node);
    bytes -= node.bytes;
    return true;
  }

  return {
    get size() {
      return nodes.size;
    },
    get bytes() {
      return bytes;
    },
    get(key) {
      const node = nodes.get(key);
      if (node === undefined) return undefined;
      unlink(node);
      pushNewest(node);
      return node.value;
    },
    set(key, value, size) {
      remove(key);
      if (size > maxBytes) return;
      const node: Node<V> = { key, value, bytes: size, newer: null, older: null };
      nodes.set(key, node);
      pushNewest(node);
      bytes += size;
      // The new node fits on its own, so the loop stops before reaching it.
      while (nodes.size > maxEntries || bytes > maxBytes) remove(oldest!.key);
    },
    delete: remove,
  };
}

/** Per entry, besides its two strings: the `Map` entry, the slot and entry objects, the string headers (an estimate, on the high side). */
export const ENTRY_OVERHEAD_BYTES = 160;

const TWO_BYTE = /[\u0100-\uffff]/;

/**
 * The heap one cached token holds, as V8 stores strings: one byte a character
 * when every character fits in Latin-1, else two. The cookie value is
 * base64url (checked before anything is cached), so only the plaintext can be
 * two-byte. Computed on insertion only, never on a hit.
 */
export function entryBytes(token: string, plaintext: string): number {
  return ENTRY_OVERHEAD_BYTES + token.length + plaintext.length * (TWO_BYTE.test(plaintext) ? 2 : 1);
}
