import type { AppDeps } from '../app.js';
import { createServiceCalendar } from '../platform/clock/index.js';
import { clientIpResolver } from '../platform/http/client-ip.js';
import type { Authenticate, RouteSpec } from '../platform/http/routes.js';
import { createMailQueue } from '../platform/mail/index.js';
import { createAuthenticate } from './auth/authenticate.js';
import { createOAuth } from './auth/oauth.js';
import { resetPageRouter } from './auth/reset-page.js';
import { legacyAuthenticate } from './legacy/authenticate.js';
import { legacyRoutes } from './legacy/routes.js';
import { createPasswordHasher } from './auth/passwords.js';
import { authRoutes } from './auth/routes.js';
import { createAuthService } from './auth/service.js';
import { createSessions } from './auth/sessions.js';
import { createAccessTokens } from './auth/tokens.js';
import { filesRoutes } from './files/routes.js';
import { createFilesService } from './files/service.js';
import { meRoutes } from './members/routes.js';
import { createMembersService } from './members/service.js';
import { adminRoutes } from './admin/routes.js';
import { createAdminService } from './admin/service.js';
import { carpoolRoutes } from './carpools/routes.js';
import { createCarpoolsService } from './carpools/service.js';
import { reportRoutes } from './reports/routes.js';
import { createReportsService } from './reports/service.js';

/** Builds every feature's services over the shared dependencies, and their routes. */
export function createFeatures(deps: AppDeps) {
  const { config } = deps;
  const files = createFilesService(deps);
  const members = createMembersService(deps, files);
  const hasher = createPasswordHasher({
    memoryCost: config.ARGON2_MEMORY_KIB,
    timeCost: config.ARGON2_TIME_COST,
    parallelism: config.ARGON2_PARALLELISM,
  });
  const tokens = createAccessTokens(
    { keys: config.JWT_KEYS!, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS },
    deps.clock,
  );
  const sessions = createSessions(deps.kv, {
    ttlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    rotationGraceSeconds: config.REFRESH_ROTATION_GRACE_SECONDS,
    now: () => deps.clock(),
  });
  const mail = createMailQueue(deps.mailer, deps.logger, { onResult: (outcome) => deps.metrics.mailSends.inc({ outcome }) });
  const auth = createAuthService(deps, { members, hasher, tokens, sessions, mail });
  const authenticate: Authenticate = createAuthenticate(tokens, sessions, members);
  const clientIp = clientIpResolver(config.TRUSTED_PROXIES);
  const oauth = createOAuth(deps, members);
  // The clock is read at each call: tests replace deps.clock.
  const dayStart = { startHour: config.SERVICE_DAY_START_HOUR, timeZone: config.SERVICE_TIME_ZONE };
  const calendar = createServiceCalendar(dayStart, () => deps.clock());
  const carpools = createCarpoolsService(deps, { members, calendar });
  const reports = createReportsService(deps, { carpools, members, calendar });
  const admin = createAdminService({ members, sessions });

  const routes: RouteSpec[] = [
    ...authRoutes(auth, members, oauth, clientIp),
    ...meRoutes(members, auth, clientIp),
    ...filesRoutes(files),
    ...carpoolRoutes(carpools),
    ...reportRoutes(reports),
    ...adminRoutes({ admin, members, carpools, reports }),
  ];
  const legacy = {
    routes: legacyRoutes({ auth, oauth, members, files, carpools, reports, calendar, clientIp }),
    authenticate: legacyAuthenticate(authenticate, auth),
  };
  return {
    routes,
    authenticate,
    legacy,
    pages: [resetPageRouter()],
    services: { files, members, auth, sessions, tokens, mail, calendar, carpools, reports, admin },
  };
}

export type Features = ReturnType<typeof createFeatures>;
