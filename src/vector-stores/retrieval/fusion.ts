import type { ChunkHit } from '../persistence/vector-stores.store';

/** Reciprocal rank fusion's constant (Cormack et al.): damps the weight of the very top ranks. */
export const RRF_K = 60;

/**
 * Fuses ranked lists (keyword, vector) by reciprocal rank: a chunk scores Σ 1/(K + rank) over
 * the lists it is in, divided by the best score possible (first in every list), so scores are in
 * (0, 1] and a chunk first in both lists scores 1. A single list keeps its own scores (already in [0, 1]).
 */
export function fuse(lists: ChunkHit[][]): ChunkHit[] {
  const nonEmpty = lists.filter((l) => l.length);
  if (lists.length <= 1) return [...(lists[0] ?? [])];
  const best = lists.length / (RRF_K + 1);
  const fused = new Map<string, ChunkHit>();
  for (const list of nonEmpty) {
    list.forEach((hit, rank) => {
      const add = 1 / (RRF_K + rank + 1);
      const seen = fused.get(hit.chunkId);
      fused.set(hit.chunkId, { ...hit, score: (seen?.score ?? 0) + add });
    });
  }
  return [...fused.values()].map((h) => ({ ...h, score: Math.min(1, h.score / best) })).sort((a, b) => b.score - a.score || a.chunkId.localeCompare(b.chunkId));
}

/** Several queries' results as one list: each chunk at its best score. */
export function mergeQueries(results: ChunkHit[][]): ChunkHit[] {
  const best = new Map<string, ChunkHit>();
  for (const list of results) for (const hit of list) if ((best.get(hit.chunkId)?.score ?? -1) < hit.score) best.set(hit.chunkId, hit);
  return [...best.values()].sort((a, b) => b.score - a.score || a.chunkId.localeCompare(b.chunkId));
}
