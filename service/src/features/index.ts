import type { AppDeps } from '../app.js';
import { AppError } from '../platform/http/errors.js';
import type { Authenticate, RouteSpec } from '../platform/http/routes.js';

/** Until the accounts feature supplies one, every guarded call is refused. */
const refuseAll: Authenticate = async () => {
  throw new AppError('AUTH-005');
};

/** Wires every feature's routes over the shared dependencies. */
export function createFeatures(_deps: AppDeps): { routes: RouteSpec[]; authenticate: Authenticate } {
  return { routes: [], authenticate: refuseAll };
}
