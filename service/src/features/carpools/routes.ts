import { route } from '../../platform/http/routes.js';
import { cursorPageQuery } from './pagination.js';
import { carpoolIdParams, carpoolList, carpoolView, historyPage, listQuery, myCarpoolView, reservationView } from './schemas.js';
import { newCarpoolSchema } from './rules.js';
import type { CarpoolsService } from './service.js';

const TODAY =
  "Today is the current service day: it starts at SERVICE_DAY_START_HOUR (10:00 by default) in SERVICE_TIME_ZONE (Asia/Seoul) and lasts 24 hours; at its end, today's carpools move into history.";

export function carpoolRoutes(carpools: CarpoolsService) {
  return [
    route({
      method: 'get',
      path: '/carpools',
      tag: 'carpools',
      summary: "Today's carpools: newest first, earliest departure first or cheapest first; optionally only those with a free seat",
      description: `${TODAY}\n\nCursor pages of at most 50 (\`size\`, default 20); pass \`nextCursor\` as \`cursor\` for the next page. Ties are ordered by id.`,
      access: 'member',
      query: listQuery,
      response: carpoolList,
      early: carpools.earlyListVersion,
      handler: async ({ query, ctx, early }) => {
        ctx.type = 'application/json';
        return carpools.listTodayJson(query, early);
      },
    }),
    route({
      method: 'post',
      path: '/carpools',
      tag: 'carpools',
      summary: 'Post a carpool (drivers only; one carpool a day, as driver or passenger)',
      description: `${TODAY}\n\nThe departure lies after now and before the end of today's service day.`,
      access: 'member',
      status: 201,
      body: newCarpoolSchema,
      response: carpoolView,
      errors: ['MATE-006', 'MATE-003', 'MATE-009'],
      handler: ({ principal, body }) => carpools.post(principal.id, body),
    }),
    route({
      method: 'get',
      path: '/carpools/{id}',
      tag: 'carpools',
      summary: 'One carpool (of any day; deleted carpools are not found)',
      access: 'member',
      params: carpoolIdParams,
      response: carpoolView,
      errors: ['MATE-001'],
      handler: ({ params }) => carpools.get(params.id),
    }),
    route({
      method: 'delete',
      path: '/carpools/{id}',
      tag: 'carpools',
      summary: "Delete my carpool before it leaves; its passengers' reservations end with it",
      access: 'member',
      status: 204,
      params: carpoolIdParams,
      errors: ['MATE-001', 'MATE-007', 'MATE-010'],
      handler: async ({ principal, params }) => {
        await carpools.deleteCarpool(principal.id, params.id);
      },
    }),
    route({
      method: 'post',
      path: '/carpools/{id}/reservations',
      tag: 'carpools',
      summary: "Reserve a seat in one of today's carpools; answers the reservation with the carpool's new seat count",
      access: 'member',
      status: 201,
      params: carpoolIdParams,
      response: reservationView,
      errors: ['MATE-001', 'MATE-002', 'MATE-003', 'MATE-008', 'MATE-010'],
      handler: ({ principal, params }) => carpools.reserve(principal.id, params.id),
    }),
    route({
      method: 'delete',
      path: '/carpools/{id}/reservations/me',
      tag: 'carpools',
      summary: 'Cancel my reservation before the carpool leaves; the seat is free at once',
      access: 'member',
      status: 204,
      params: carpoolIdParams,
      errors: ['MATE-001', 'MATE-004', 'MATE-010'],
      handler: async ({ principal, params }) => {
        await carpools.cancelReservation(principal.id, params.id);
      },
    }),
    route({
      method: 'get',
      path: '/me/carpool',
      tag: 'me',
      summary: "Today's carpool I drive or ride, with its passengers; or that the one I had reserved was deleted",
      description: TODAY,
      access: 'member',
      response: myCarpoolView,
      handler: ({ principal }) => carpools.myCarpool(principal.id),
    }),
    route({
      method: 'get',
      path: '/me/rides',
      tag: 'me',
      summary: 'Carpools I rode as a passenger on earlier service days, newest first',
      description: 'Cancelled reservations and deleted carpools are not rides. Cursor pages of at most 50.',
      access: 'member',
      query: cursorPageQuery,
      response: historyPage,
      handler: ({ principal, query }) => carpools.history(principal.id, 'rides', query),
    }),
    route({
      method: 'get',
      path: '/me/drives',
      tag: 'me',
      summary: 'Carpools I drove on earlier service days, newest first',
      description: 'Deleted carpools are not drives. Cursor pages of at most 50.',
      access: 'member',
      query: cursorPageQuery,
      response: historyPage,
      handler: ({ principal, query }) => carpools.history(principal.id, 'drives', query),
    }),
  ];
}
