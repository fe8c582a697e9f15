/**
 * The pressure suite's workloads and the data they run on: drivers with
 * today's carpools, riders who browse and reserve, and a ledger of every
 * acknowledged reservation and cancellation, checked against the database
 * afterwards (no acknowledged reservation lost, no seat count off).
 */
import { quickMembers, seatState } from '../../../service/src/features/carpools/fixtures.js';
import { newMember } from '../../../service/src/features/auth/fixtures.js';
import type { TestApp } from '../../../service/src/testing/harness.js';
import { pick, weighted, type Req, type Workload } from './load.js';

export interface Rider {
  id: number;
  auth: string;
  /** Last acknowledged state: the carpool reserved, null for none, undefined when unknown. */
  carpoolId: number | null | undefined;
  busy: boolean;
}

export interface Seeded {
  carpoolIds: number[];
  hotCarpoolIds: number[];
  riders: Rider[];
  contenders: Rider[];
  drivers: Rider[];
  signins: Array<{ loginId: string; password: string }>;
}

const toRider = (m: { id: number; accessToken: string }): Rider => ({
  id: m.id,
  auth: `Bearer ${m.accessToken}`,
  carpoolId: null,
  busy: false,
});

async function manyMembers(t: TestApp, n: number, opts: { driver?: boolean } = {}) {
  const lanes = 8;
  const parts = await Promise.all(
    Array.from({ length: lanes }, (_, i) => quickMembers(t, Math.floor(n / lanes) + (i < n % lanes ? 1 : 0), opts)),
  );
  return parts.flat();
}

/**
 * Seeds through the services (members, sessions, carpools: the same code the
 * API runs) and, for members who sign in with a password, through the API.
 */
export async function seed(
  t: TestApp,
  sizes: { carpools: number; riders: number; contenders: number; hot: number; signins: number },
): Promise<Seeded> {
  const { carpools } = t.services;
  const drivers = await manyMembers(t, sizes.carpools + sizes.hot, { driver: true });
  const now = t.clock.now().getTime();
  const carpoolIds: number[] = [];
  const hotCarpoolIds: number[] = [];
  for (let i = 0; i < drivers.length; i += 25) {
    const posted = await Promise.all(
      drivers.slice(i, i + 25).map((d, k) => {
        const n = i + k;
        const hot = n >= sizes.carpools;
        return carpools.post(d.id, {
          departurePlace: `수원시 권선구 출발지 ${n}`,
          latitude: 37.2 + n / 10_000,
          longitude: 126.9 + n / 10_000,
          departureAt: new Date(now + (3 + (n % 6)) * 3_600_000 + n * 1000).toISOString(),
          chatLink: 'https://open.kakao.com/o/pressure',
          capacity: hot ? 3 : 4 + (n % 5),
          cost: (n % 10) * 500,
        });
      }),
    );
    for (const c of posted) (hotCarpoolIds.length + carpoolIds.length < sizes.carpools ? carpoolIds : hotCarpoolIds).push(c.id);
  }
  const riders = (await manyMembers(t, sizes.riders)).map(toRider);
  // A third of the riders start the morning with a reservation, so "my carpool" shows passengers.
  for (let i = 0; i < riders.length; i += 3) {
    const r = riders[i]!;
    const carpoolId = carpoolIds[i % carpoolIds.length]!;
    await carpools.reserve(r.id, carpoolId);
    r.carpoolId = carpoolId;
  }
  const contenders = (await manyMembers(t, sizes.contenders)).map(toRider);
  const signins: Seeded['signins'] = [];
  for (let i = 0; i < sizes.signins; i++) {
    const m = await newMember(t, { prefix: 'load' });
    signins.push({ loginId: m.loginId, password: m.password });
  }
  return { carpoolIds, hotCarpoolIds, riders, contenders, drivers: drivers.map(toRider), signins };
}

const API = '/api/v1';

/** Today's list, first page, one of the six variants (sort × available), as a random rider. */
export const listRequest = (riders: Rider[]): Req => ({
  op: 'list',
  path: `${API}/carpools?sort=${pick(['latest', 'departure', 'cost'])}${Math.random() < 0.5 ? '&available=true' : ''}`,
  headers: { authorization: pick(riders).auth },
});
/** The legacy web client's list of today's carpools (one array of all of them), as a random rider. */
export const legacyListRequest = (riders: Rider[]): Req => ({
  op: 'legacy list',
  path: `/api/carpool/${pick(['list', 'active', 'fast', 'low'])}`,
  headers: { authorization: pick(riders).auth },
});
export const carpoolRequest = (riders: Rider[], carpoolIds: number[]): Req => ({
  op: 'carpool',
  path: `${API}/carpools/${pick(carpoolIds)}`,
  headers: { authorization: pick(riders).auth },
});
export const myCarpoolRequest = (riders: Rider[]): Req => ({
  op: 'my carpool',
  path: `${API}/me/carpool`,
  headers: { authorization: pick(riders).auth },
});
export const meRequest = (riders: Rider[]): Req => ({ op: 'me', path: `${API}/me`, headers: { authorization: pick(riders).auth } });

export const reads = (riders: Rider[], make: (riders: Rider[]) => Req): Workload => ({ next: () => make(riders) });

/**
 * Reserve / cancel: a rider not already in flight reserves one of `carpoolIds`
 * if it holds nothing, else cancels what it holds; a rider whose state is
 * unknown (an answer it did not get) asks `GET /me/carpool` first. Every
 * acknowledgement updates the rider's ledger state.
 */
export class ReserveCancel implements Workload {
  private readonly idle: Rider[];
  readonly acks = { reserved: 0, cancelled: 0 };

  constructor(
    readonly riders: Rider[],
    private readonly carpoolIds: number[],
    /** Answers that are the business's "no" rather than a failure. */
    private readonly acceptable = new Set(['MATE-002']),
  ) {
    // A rider left in flight by an earlier run (its answer never read) is out: its state is not known.
    this.idle = riders.filter((r) => !r.busy);
  }

  next(): Req {
    const r = this.idle.splice(Math.floor(Math.random() * this.idle.length), 1)[0];
    if (!r) return myCarpoolRequest(this.riders); // more connections than riders: read instead
    r.busy = true;
    const headers = { authorization: r.auth };
    const tagged = (req: Req) => Object.assign(req, { rider: r });
    if (r.carpoolId === undefined) return tagged({ op: 'my carpool', path: `${API}/me/carpool`, headers });
    if (r.carpoolId === null)
      return tagged({ op: 'reserve', method: 'POST', path: `${API}/carpools/${pick(this.carpoolIds)}/reservations`, headers });
    return tagged({ op: 'cancel', method: 'DELETE', path: `${API}/carpools/${r.carpoolId}/reservations/me`, headers });
  }

  done(req: Req, status: number, body: string): void {
    const r = (req as Req & { rider?: Rider }).rider;
    if (!r) return;
    if (req.op === 'reserve') {
      if (status === 201) {
        r.carpoolId = Number(/\/carpools\/(\d+)\//.exec(req.path)![1]);
        this.acks.reserved++;
      } else if (status !== 409 || !/MATE-002/.test(body)) r.carpoolId = undefined;
    } else if (req.op === 'cancel') {
      if (status === 204) {
        r.carpoolId = null;
        this.acks.cancelled++;
      } else r.carpoolId = undefined;
    } else if (req.op === 'my carpool' && status === 200) {
      const view = JSON.parse(body) as { status: string; amIDriver: boolean; carpool: { id: number } | null };
      r.carpoolId = view.status === 'active' && !view.amIDriver ? view.carpool!.id : null;
    }
    r.busy = false;
    this.idle.push(r);
  }

  failed(req: Req, status: number, code: string | undefined): boolean {
    if (status >= 200 && status < 300) return false;
    return !(req.op === 'reserve' && code !== undefined && this.acceptable.has(code));
  }
}

/** The morning rush: 90 % reads (lists 45, one carpool 20, my carpool 20, me 5), 10 % reserve/cancel. */
export function morningRush(s: Seeded): Workload & { writes: ReserveCancel } {
  const writes = new ReserveCancel(s.riders, s.carpoolIds);
  const choose = weighted<() => Req>([
    [45, () => listRequest(s.riders)],
    [20, () => carpoolRequest(s.riders, s.carpoolIds)],
    [20, () => myCarpoolRequest(s.riders)],
    [5, () => meRequest(s.riders)],
    [10, () => writes.next()],
  ]);
  return {
    writes,
    next: () => choose()(),
    done: (req, status, body) => writes.done(req, status, body),
    failed: (req, status, code) => writes.failed(req, status, code),
  };
}

export function signIn(s: Seeded): Workload {
  return {
    next: () => {
      const m = pick(s.signins);
      return {
        op: 'signin',
        method: 'POST',
        path: `${API}/auth/signin`,
        body: JSON.stringify({ loginId: m.loginId, password: m.password }),
      };
    },
  };
}

/**
 * The database against the ledger: every rider whose last acknowledged answer
 * left it holding a reservation still holds exactly that one (none lost),
 * every rider acknowledged as holding none holds none, and every carpool's
 * seat count equals its standing reservations and never exceeds capacity.
 * Riders with an answer outstanding (or unknown) are not judged.
 */
export async function checkLedger(t: TestApp, riders: Rider[], carpoolIds: number[]) {
  const db = t.deps.db;
  const standing = new Map<number, number>();
  const rows = await db('participations')
    .whereIn(
      'member_id',
      riders.map((r) => r.id),
    )
    .where('role', 'passenger')
    .whereNotNull('active_day')
    .select('member_id', 'carpool_id');
  for (const row of rows) standing.set(Number(row.member_id), Number(row.carpool_id));
  let lost = 0;
  let unexpected = 0;
  let judged = 0;
  for (const r of riders) {
    if (r.busy || r.carpoolId === undefined) continue;
    judged++;
    const inDb = standing.get(r.id) ?? null;
    if (r.carpoolId !== null && inDb !== r.carpoolId) lost++;
    if (r.carpoolId === null && inDb !== null) unexpected++;
  }
  let overbooked = 0;
  let mismatched = 0;
  for (const id of carpoolIds) {
    const s = await seatState(t, id);
    if (s.seatsTaken > s.capacity) overbooked++;
    if (s.seatsTaken !== s.activePassengers) mismatched++;
  }
  return { judged, lost, unexpected, overbooked, mismatched };
}
