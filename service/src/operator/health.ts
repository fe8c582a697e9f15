/**
 * What the operator's probes answer (GET /healthz, GET /readyz), the way
 * controller-runtime's managers decide it:
 * - alive: no worker has been on one reconcile for longer than stuckAfterMs
 *   (every API request times out after 30 s, so a reconcile that runs this long
 *   is hung, and only a restart frees its worker); an idle loop is alive;
 * - ready: the leader once its informers have synced; a follower while it
 *   still reaches the Lease (it stands by and can take over).
 */
export class Heartbeat {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly stuckAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  begin(key: string): void {
    this.inFlight.set(key, this.now());
  }

  end(key: string): void {
    this.inFlight.delete(key);
  }

  /** How long the oldest reconcile in progress has been running, in seconds (0 when idle). */
  longestRunningSeconds(): number {
    const oldest = Math.min(...this.inFlight.values());
    return Number.isFinite(oldest) ? (this.now() - oldest) / 1000 : 0;
  }

  alive(): boolean {
    return this.longestRunningSeconds() * 1000 < this.stuckAfterMs;
  }
}

export interface ReadinessState {
  /** false: a single operator without a Lease. */
  leaderElection: boolean;
  leading: boolean;
  /** The leader's informers have listed everything once. */
  synced: boolean;
  /** When a follower last read the Lease (ms since the epoch). */
  lastLeaseContact?: number;
  leaseDurationMs: number;
  now: number;
}

export function isReady(s: ReadinessState): boolean {
  if (!s.leaderElection || s.leading) return s.synced;
  return s.lastLeaseContact !== undefined && s.now - s.lastLeaseContact < s.leaseDurationMs;
}
