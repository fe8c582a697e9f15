/** The MateApp's status conditions, each stamped with the generation it was decided for. */
import type { Condition, ConditionType } from './types.js';

export const seconds = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

export class Conditions {
  private readonly out = new Map<ConditionType, Condition>();
  constructor(
    private readonly prev: Condition[],
    private readonly generation: number,
    private readonly now: Date,
  ) {}
  set(type: ConditionType, status: Condition['status'], reason: string, message: string): void {
    const old = this.prev.find((c) => c.type === type);
    this.out.set(type, {
      type,
      status,
      reason,
      message,
      observedGeneration: this.generation,
      lastTransitionTime: old && old.status === status ? old.lastTransitionTime : seconds(this.now),
    });
  }
  /** The condition as it was (with its own, older observedGeneration). */
  keep(type: ConditionType): void {
    const old = this.prev.find((c) => c.type === type);
    if (old) this.out.set(type, old);
    else this.set(type, 'Unknown', 'Reconciling', 'not determined yet');
  }
  list(): Condition[] {
    const order: ConditionType[] = ['Ready', 'Progressing', 'Degraded', 'MigrationComplete'];
    return order.flatMap((t) => (this.out.has(t) ? [this.out.get(t)!] : []));
  }
}
