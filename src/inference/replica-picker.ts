import { createHash } from 'node:crypto';

/**
 * Chooses among a provider's replicas. A request with an affinity key (its `prompt_cache_key`)
 * goes to the replica with the highest rendezvous score for that key, so one session keeps
 * hitting the replica that holds its prefix cache; removing a replica moves only the keys it had,
 * adding one takes about 1/n of the keys. Requests without a key go round-robin.
 */
export class ReplicaPicker<T> {
  private next = 0;

  /** `ids` name the replicas (their URLs): scores depend on the id, not on the position in the list. */
  constructor(
    private readonly replicas: readonly T[],
    private readonly ids: readonly string[],
  ) {
    if (replicas.length === 0 || replicas.length !== ids.length) throw new Error('ReplicaPicker: one id per replica, at least one');
  }

  /** Every replica, the preferred one first: with a key its rendezvous order, without one the round-robin turn onwards. */
  order(key?: string | null): T[] {
    const n = this.replicas.length;
    if (n === 1) return [...this.replicas];
    if (key) {
      return this.replicas
        .map((replica, i) => ({ replica, score: rendezvousScore(this.ids[i], key) }))
        .sort((a, b) => (b.score > a.score ? 1 : b.score < a.score ? -1 : 0))
        .map((s) => s.replica);
    }
    const start = this.next;
    this.next = (this.next + 1) % n;
    return Array.from({ length: n }, (_, i) => this.replicas[(start + i) % n]);
  }
}

/** Highest-random-weight score of (replica, key): 64 bits of SHA-256, stable across processes and restarts. */
export function rendezvousScore(replicaId: string, key: string): bigint {
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  return createHash('sha256').update(replicaId).update('\0').update(key).digest().readBigUInt64BE(0);
}
