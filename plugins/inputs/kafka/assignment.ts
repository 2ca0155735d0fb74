// Which topic-partitions the kafka inputs of this process own, and in which consumer-group generation: read by
// the `window` aggregate in `emit: partials` mode, which must stop closing windows (and reporting watermarks)
// of partitions that moved to another group member, and start afresh on the ones kafkajs re-reads from the
// committed offsets after a rebalance. Events carry their generation in `kafka.generation`.

/** Process-wide: one number per join of any kafka input, so that generations of several inputs never clash. */
let lastGeneration = 0;
let inputs = 0;
/** `topic\0partition` -> generation in which a kafka input of this process owns it. */
const owned = new Map<string, number>();

export const kafkaAssignments = {
  /** A kafka input starts: from now on, partitions are owned only when an input says so. */
  register(): () => void {
    inputs++;
    return () => {
      inputs--;
    };
  },
  /** A rebalance began: the input's partitions are no longer owned until its next join. */
  revoke(partitions: Iterable<string>): void {
    for (const id of partitions) owned.delete(id);
  },
  /** The input joined a new generation with these partitions; returns the generation number. */
  assign(assignment: Record<string, number[]>): { generation: number; ids: string[] } {
    const generation = ++lastGeneration;
    const ids: string[] = [];
    for (const [topic, ps] of Object.entries(assignment)) {
      for (const p of ps) {
        const id = `${topic}\0${p}`;
        owned.set(id, generation);
        ids.push(id);
      }
    }
    return { generation, ids };
  },
  /** The generation in which this process owns the partition; undefined when it does not own it; null when no
   * kafka input runs in this process (events come from elsewhere: ownership is not tracked). */
  owner(topic: unknown, partition: unknown): number | undefined | null {
    if (inputs === 0) return null;
    return owned.get(`${String(topic)}\0${String(partition)}`);
  },
};
