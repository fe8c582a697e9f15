/**
 * A small in-process cache of the most recently used entries, each until its
 * own expiry: for values that are costly to make and cannot go stale except
 * by expiring (a verified token, a page under a versioned key). A Map keeps
 * insertion order, so its first key is the least recently used.
 */
export class RecentlyUsed<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  constructor(private readonly max: number) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): V {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
