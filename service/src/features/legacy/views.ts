import type { ServiceCalendar } from '../../platform/clock/index.js';
import type { CarpoolView } from '../carpools/schemas.js';
import type { MemberView } from '../members/schemas.js';

/**
 * The predecessor's shapes, built from the /api/v1 views: one source of truth, two wire formats.
 * The predecessor sent a default image URL for members without a photo; the client puts the value
 * into CSS `url(...)` and `next/image` as it is (null would load `/null`), so they get one too.
 */
export function legacyViews(calendar: ServiceCalendar, defaultProfileImage: string) {
  const local = (iso: string) => calendar.localDateTime(new Date(iso));
  const profileImage = (url: string | null) => url ?? defaultProfileImage;
  return {
    local,
    profileImage,
    member(m: MemberView, extra: { reservation: boolean; carpoolCount: number }) {
      return {
        memberId: m.loginId,
        nickname: m.nickname,
        email: m.email,
        profileImage: profileImage(m.profileImageUrl),
        memberType: m.role === 'admin' ? 'ADMIN' : 'STANDARD',
        providerType: m.provider.toUpperCase(),
        createDate: local(m.createdAt),
        updateDate: local(m.updatedAt),
        reservation: extra.reservation,
        isBanned: m.banned,
        isDriver: m.isDriver,
        carpoolCount: extra.carpoolCount,
        ...(m.driver && {
          carNumber: m.driver.carNumber,
          phoneNumber: m.driver.phoneNumber,
          carImage: m.driver.carImageUrl,
          driverRegistrationDate: local(m.driver.registeredAt),
        }),
      };
    },
    carpool(c: CarpoolView) {
      return {
        carpoolId: c.id,
        driverName: c.driver.nickname,
        driverImg: profileImage(c.driver.profileImageUrl),
        carImg: c.driver.carImageUrl,
        carNumber: c.driver.carNumber,
        departureCoordinate: c.departurePlace,
        latitude: c.latitude,
        longitude: c.longitude,
        departureTime: local(c.departureAt),
        chatLink: c.chatLink,
        capacity: c.capacity,
        cost: c.cost,
        reservationCount: c.seatsTaken,
        createAt: local(c.createdAt),
      };
    },
    history(c: CarpoolView) {
      return {
        carpoolId: c.id,
        driverImg: profileImage(c.driver.profileImageUrl),
        departureCoordinate: c.departurePlace,
        departureTime: local(c.departureAt),
        capacity: c.capacity,
        cost: c.cost,
        reservationCount: c.seatsTaken,
        createAt: local(c.createdAt),
      };
    },
  };
}

/** "me***er": enough for its owner to recognise, not enough to sign in with. */
export function maskLoginId(loginId: string): string {
  if (loginId.length <= 3) return `${loginId[0]}${'*'.repeat(loginId.length - 1)}`;
  const keep = Math.max(1, Math.floor(loginId.length / 4));
  return `${loginId.slice(0, keep + 1)}${'*'.repeat(loginId.length - 2 * keep - 1)}${loginId.slice(-keep)}`.slice(0, loginId.length);
}

/** The legacy client sends and receives image URLs; the key is the last path segment we issued. */
export function fileKeyFromUrl(url: string | undefined | null): string | undefined {
  if (!url) return undefined;
  return /(?:^|\/)((?:profile|car|image)-[0-9a-f-]{36}\.(?:jpg|png|webp))(?:[?#]|$)/.exec(url)?.[1];
}
