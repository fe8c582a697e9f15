import type { Knex } from 'knex';
import type { z } from 'zod';
import type { AppDeps } from '../../app.js';
import { AppError, checked, type ErrorCode } from '../../platform/http/errors.js';
import { caseless } from '../../platform/db/index.js';
import { isUniqueViolation } from '../../platform/db/model.js';
import type { FilesService } from '../files/service.js';
import { Member } from './models.js';
import { nicknameColumns, nicknameKey } from './rules.js';
import { driverCarSchema, profileChangeSchema, type MemberView } from './schemas.js';

export interface NewMember {
  loginId?: string | null;
  email?: string | null;
  nickname: string;
  passwordHash?: string | null;
  role?: 'member' | 'admin';
  provider?: 'mate' | 'kakao' | 'line';
  providerSubject?: string | null;
}

const UNIQUE_CODES: Array<[string, ErrorCode]> = [
  ['login_id', 'ACCOUNT-003'],
  ['email', 'ACCOUNT-002'],
  ['nickname', 'ACCOUNT-004'],
];

/** Maps a unique-constraint violation to its duplicate code: the database is the referee. */
function duplicateCode(err: unknown): ErrorCode | undefined {
  return UNIQUE_CODES.find(([column]) => isUniqueViolation(err, column))?.[1];
}

export type AvailabilityField = 'loginId' | 'email' | 'nickname';

export type DriverCar = z.input<typeof driverCarSchema>;

/** The members feature owns the members and drivers tables; others go through this. */
export function createMembersService(deps: Pick<AppDeps, 'db' | 'clock'>, files: FilesService) {
  const { db } = deps;
  const query = (trx?: Knex) => Member.query(trx ?? db);

  /**
   * Inserts first and lets the drivers primary key decide whether the member
   * was a driver already: a read before the write would let two simultaneous
   * registrations both insert, and the second fail on the key.
   */
  async function saveDriver(
    id: number,
    given: DriverCar,
    ifRegistered: 'update' | 'refuse',
  ): Promise<{ created: boolean; member: Member }> {
    const car = checked(driverCarSchema, given);
    const before = await service.require(id);
    if (car.carImageKey) await files.assertOwned(id, car.carImageKey, 'car');
    const now = deps.clock();
    const fields = {
      car_number: car.carNumber,
      phone_number: car.phoneNumber,
      ...(car.carImageKey !== undefined && { car_image_key: car.carImageKey }),
      updated_at: now,
    };
    const created = await db('drivers')
      .insert({ member_id: id, car_image_key: null, ...fields, created_at: now })
      .then(
        () => true,
        (err: unknown) => {
          if (isUniqueViolation(err)) return false;
          throw err;
        },
      );
    if (!created) {
      if (ifRegistered === 'refuse') throw new AppError('ACCOUNT-011');
      await db('drivers').where('member_id', id).update(fields);
    }
    const oldImage = before.driver?.car_image_key;
    if (car.carImageKey && oldImage && oldImage !== car.carImageKey) await files.remove(oldImage);
    return { created, member: await service.require(id) };
  }

  async function toView(m: Member): Promise<MemberView> {
    const driver = m.driver !== undefined ? m.driver : await m.$relatedQuery('driver', db);
    const profileImageUrl = m.profile_image_key ? await files.urlFor(m.profile_image_key) : null;
    return {
      id: Number(m.id),
      loginId: m.login_id,
      email: m.email,
      nickname: m.nickname,
      profileImageUrl,
      role: m.role,
      provider: m.provider,
      isDriver: !!driver,
      driver: driver
        ? {
            carNumber: driver.car_number,
            phoneNumber: driver.phone_number,
            carImageUrl: driver.car_image_key ? await files.urlFor(driver.car_image_key) : null,
            registeredAt: driver.created_at.toISOString(),
          }
        : null,
      banned: !!m.banned_at,
      createdAt: m.created_at.toISOString(),
      updatedAt: m.updated_at.toISOString(),
    };
  }

  const service = {
    toView,

    async create(input: NewMember): Promise<Member> {
      const now = deps.clock();
      try {
        return await query().insertAndFetch({
          login_id: input.loginId ?? null,
          email: input.email ?? null,
          ...nicknameColumns(input.nickname),
          password_hash: input.passwordHash ?? null,
          role: input.role ?? 'member',
          provider: input.provider ?? 'mate',
          provider_subject: input.providerSubject ?? null,
          created_at: now,
          updated_at: now,
        } as Partial<Member>);
      } catch (err) {
        const code = duplicateCode(err);
        if (code) throw new AppError(code);
        throw err;
      }
    },

    /** Login ids and emails are compared without regard to case, nicknames by their look-alike key. */
    async isAvailable(field: AvailabilityField, value: string): Promise<boolean> {
      const holder = db('members');
      if (field === 'nickname') holder.where('nickname_key', nicknameKey(value));
      else holder.where(caseless(db, field === 'loginId' ? 'login_id' : 'email'), '=', value);
      return !(await holder.first('id'));
    },

    findById: (id: number) => query().findById(id).withGraphFetched('driver'),
    findByLoginId: (loginId: string) => query().where(caseless(db, 'login_id'), '=', loginId).first(),
    findByEmail: (email: string) => query().where(caseless(db, 'email'), '=', email).first(),
    findByProvider: (provider: 'kakao' | 'line', subject: string) => query().findOne({ provider, provider_subject: subject }),

    async require(id: number): Promise<Member> {
      const m = await query().findById(id).withGraphFetched('driver');
      if (!m) throw new AppError('ACCOUNT-001');
      return m;
    },

    async setPasswordHash(id: number, hash: string): Promise<void> {
      await query()
        .patch({ password_hash: hash, updated_at: deps.clock() } as Partial<Member>)
        .where('id', id);
    },

    /** Nickname and profile image; the replaced image is removed after the change is saved. */
    async updateProfile(id: number, given: { nickname?: string; profileImageKey?: string }): Promise<Member> {
      const change = checked(profileChangeSchema, given);
      const before = await this.require(id);
      if (change.profileImageKey) await files.assertOwned(id, change.profileImageKey, 'profile');
      try {
        await query()
          .patch({
            ...(change.nickname !== undefined && nicknameColumns(change.nickname)),
            ...(change.profileImageKey !== undefined && { profile_image_key: change.profileImageKey }),
            updated_at: deps.clock(),
          } as Partial<Member>)
          .where('id', id);
      } catch (err) {
        const code = duplicateCode(err);
        if (code) throw new AppError(code);
        throw err;
      }
      if (change.profileImageKey && before.profile_image_key && before.profile_image_key !== change.profileImageKey) {
        await files.remove(before.profile_image_key);
      }
      return this.require(id);
    },

    /** Registers a car, or updates the one registered (updating is not ACCOUNT-011). */
    upsertDriver: (id: number, car: DriverCar) => saveDriver(id, car, 'update'),

    /** Registers a car; ACCOUNT-011 when the member already has one. */
    registerDriver: (id: number, car: DriverCar) => saveDriver(id, car, 'refuse'),

    async isDriver(id: number): Promise<boolean> {
      return !!(await db('drivers').where('member_id', id).first('member_id'));
    },

    async setBanned(id: number, banned: boolean): Promise<Member> {
      await query()
        .patch({ banned_at: banned ? deps.clock() : null, updated_at: deps.clock() } as Partial<Member>)
        .where('id', id);
      return this.require(id);
    },

    /** Nickname, driver photo: what others see of a member (carpool lists, passengers). */
    async publicProfiles(ids: number[]) {
      const rows = await query().findByIds(ids).withGraphFetched('driver');
      return new Map(
        await Promise.all(
          rows.map(
            async (m) =>
              [
                Number(m.id),
                {
                  nickname: m.nickname,
                  profileImageUrl: m.profile_image_key ? await files.urlFor(m.profile_image_key) : null,
                  carNumber: m.driver?.car_number ?? null,
                  carImageUrl: m.driver?.car_image_key ? await files.urlFor(m.driver.car_image_key) : null,
                },
              ] as const,
          ),
        ),
      );
    },

    /** Administration: members newest first by id (unique, so pages never overlap), a page at a time, with the total. */
    async listPage(opts: { driversOnly?: boolean; page: number; size: number }): Promise<{ items: Member[]; total: number }> {
      const q = query().withGraphFetched('driver').orderBy('id', 'desc');
      if (opts.driversOnly) q.whereIn('id', db('drivers').select('member_id'));
      const { results, total } = await q.page(opts.page - 1, opts.size);
      return { items: results, total: Number(total) };
    },
  };
  return service;
}

export type MembersService = ReturnType<typeof createMembersService>;
