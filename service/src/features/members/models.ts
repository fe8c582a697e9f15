import { BaseModel } from '../../platform/db/model.js';

export class Driver extends BaseModel {
  static override tableName = 'drivers';
  static override idColumn = 'member_id';
  member_id!: number;
  car_number!: string;
  phone_number!: string;
  car_image_key!: string | null;
  created_at!: Date;
  updated_at!: Date;
}

export class Member extends BaseModel {
  static override tableName = 'members';
  static override dateColumns = ['created_at', 'updated_at', 'banned_at'];
  id!: number;
  login_id!: string | null;
  email!: string | null;
  nickname!: string;
  /** Derived from the nickname (members/rules.ts nicknameKey); unique. */
  nickname_key!: string | null;
  password_hash!: string | null;
  role!: 'member' | 'admin';
  provider!: 'mate' | 'kakao' | 'line';
  provider_subject!: string | null;
  profile_image_key!: string | null;
  banned_at!: Date | null;
  created_at!: Date;
  updated_at!: Date;
  driver?: Driver | null;

  static override relationMappings = () => ({
    driver: {
      relation: BaseModel.HasOneRelation,
      modelClass: Driver,
      join: { from: 'members.id', to: 'drivers.member_id' },
    },
  });
}
