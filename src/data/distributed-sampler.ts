/**
 * Which images each rank of a data-parallel run reads in an epoch, as PyTorch's DistributedSampler splits them: the
 * epoch's order (shuffled from the seed and the epoch, the same on every rank) is padded to a multiple of the world
 * size by repeating its start, then rank r takes positions r, r + W, r + 2W, … So the shards are disjoint, their
 * union is the padded order, and local batch b of every rank together make global batch b of a one-process run with
 * the global batch size.
 */

/** One rank's place in a data-parallel run. */
export interface Shard {
  /** 0 ≤ rank < worldSize. */
  rank: number;
  /** Number of ranks. */
  worldSize: number;
}

/** Checks a shard's numbers; throws a message naming the wrong one. */
export function checkShard(shard: Shard): void {
  const { rank, worldSize } = shard;
  if (!Number.isInteger(worldSize) || worldSize < 1)
    throw new Error(`worldSize must be an integer ≥ 1, got ${worldSize}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new Error(`rank must be an integer in [0, ${worldSize}), got ${rank}`);
  }
}

/** Images each rank reads per epoch: ⌈n / worldSize⌉ (DistributedSampler's num_samples without drop_last). */
export function shardLength(n: number, worldSize: number): number {
  return Math.ceil(n / worldSize);
}

/**
 * The order padded to a multiple of `worldSize` by repeating it from its start (DistributedSampler: as often as
 * needed when the padding is longer than the order itself).
 */
export function padOrder(order: readonly number[], worldSize: number): number[] {
  if (order.length === 0) return [];
  const total = shardLength(order.length, worldSize) * worldSize;
  const padded = [...order];
  for (let i = 0; padded.length < total; i++) padded.push(order[i % order.length]!);
  return padded;
}

/** This rank's images of an epoch's `order` (dataset indices), in the order the rank reads them. */
export function shardOrder(order: readonly number[], shard: Shard): number[] {
  checkShard(shard);
  const padded = padOrder(order, shard.worldSize);
  const out: number[] = [];
  for (let i = shard.rank; i < padded.length; i += shard.worldSize) out.push(padded[i]!);
  return out;
}
