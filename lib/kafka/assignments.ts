// Which topic-partitions the kafka inputs of a pipeline own, and in which consumer-group generation: read by
// the `window` aggregate in `emit: partials` mode, which must stop closing windows (and reporting watermarks)
// of partitions that moved to another group member, and start afresh on the ones kafkajs re-reads from the
// committed offsets after a rebalance. Events carry their generation in `kafka.generation`.
// One instance per pipeline (PluginContext.shared): the old and the new pipeline of a reload never see each
// other's assignments, nor do two pipelines of one process.
import type { PluginContext } from '../../core/index.js';

export class PartitionAssignments {
  /** One number per join of any kafka input sharing this instance, so that generations of several inputs never clash. */
  private lastGeneration = 0;
  private inputs = 0;
  /** `topic\0partition` -> generation in which a kafka input owns it. */
  private readonly owned = new Map<string, number>();

  /** A kafka input starts: from now on, partitions are owned only when an input says so. Returns its unregistration. */
  register(): () => void {
    this.inputs++;
    return () => {
      this.inputs--;
    };
  }

  /** A rebalance began: the input's partitions are no longer owned until its next join. */
  revoke(partitions: Iterable<string>): void {
    for (const id of partitions) this.owned.delete(id);
  }

  /** The input joined a new generation with these partitions; returns the generation number. */
  assign(assignment: Record<string, number[]>): { generation: number; ids: string[] } {
    const generation = ++this.lastGeneration;
    const ids: string[] = [];
    for (const [topic, ps] of Object.entries(assignment)) {
      for (const p of ps) {
        const id = `${topic}\0${p}`;
        this.owned.set(id, generation);
        ids.push(id);
      }
    }
    return { generation, ids };
  }

  /** The generation in which a kafka input owns the partition; undefined when none owns it; null when no kafka
   * input is registered (events come from elsewhere: ownership is not tracked). */
  owner(topic: unknown, partition: unknown): number | undefined | null {
    if (this.inputs === 0) return null;
    return this.owned.get(`${String(topic)}\0${String(partition)}`);
  }
}

/** The PluginContext.shared key of a pipeline's PartitionAssignments. */
export const PARTITION_ASSIGNMENTS = 'kafka.partition_assignments';

/** The partition assignments of the component's pipeline: the same instance for its kafka inputs and windows. */
export function partitionAssignments(context: PluginContext): PartitionAssignments {
  return context.shared(PARTITION_ASSIGNMENTS, () => new PartitionAssignments());
}
