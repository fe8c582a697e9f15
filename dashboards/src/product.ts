import { buildDashboard, statPanel, timeseriesPanel } from './lib.js';
import { NAMESPACE, SEL } from './selectors.js';

const inRange = (metric: string, extra = '') => `sum(increase(${metric}{${SEL}${extra}}[$__range]))`;
/** Bars of one hour: each step is the increase over the hour before it. */
const hourly = (metric: string, by = '', extra = '') => `sum${by ? ` by (${by}) ` : ''}(increase(${metric}{${SEL}${extra}}[1h]))`;
/** The seat gauges are read from the database: every pod reports the same value, so take one, not the sum. */
const seats = (metric: string) => `max(${metric}{${NAMESPACE}})`;

/** What the service is for: carpools posted, seats filled, reservations turned away. */
export function product() {
  return buildDashboard({
    uid: 'mate-product',
    title: 'MATE / Product',
    description:
      'Carpools posted, seats filled and reservations rejected as full, hour by hour through the service day ' +
      '(which starts at 10:00 Asia/Seoul by default, so the dashboard shows Seoul time).',
    tags: ['product'],
    time: { from: 'now-24h', to: 'now' },
    timezone: 'Asia/Seoul',
    rows: [
      {
        title: 'The service day so far',
        panels: [
          statPanel({
            title: 'Seats taken',
            description: 'Seats taken across today’s carpools.',
            queries: [{ expr: seats('mate_seats_taken') }],
          }),
          statPanel({
            title: 'Seats offered',
            description: 'Seats offered (capacity) across today’s carpools.',
            queries: [{ expr: seats('mate_seats_offered') }],
          }),
          statPanel({
            title: 'Seats filled',
            description: 'Seats taken as a share of seats offered today.',
            unit: 'percentunit',
            higherIsBetter: true,
            steps: [0.3, 0.6],
            queries: [{ expr: `${seats('mate_seats_taken')} / ${seats('mate_seats_offered')}` }],
          }),
          statPanel({
            title: 'Carpools posted',
            description: 'Carpools posted in the time range.',
            queries: [{ expr: inRange('mate_carpools_posted_total') }],
          }),
          statPanel({
            title: 'Rejected as full',
            description: 'Reservation attempts in the time range that found the carpool full.',
            queries: [{ expr: inRange('mate_reservations_total', ', outcome="full"') }],
          }),
          statPanel({
            title: 'Rejected as full (share)',
            description: 'Reservation attempts that found the carpool full, as a share of all attempts in the time range.',
            unit: 'percentunit',
            steps: [0.1, 0.25],
            queries: [{ expr: `${inRange('mate_reservations_total', ', outcome="full"')} / ${inRange('mate_reservations_total')}` }],
          }),
        ],
      },
      {
        title: 'By hour of the service day',
        panels: [
          timeseriesPanel({
            title: 'Carpools posted per hour',
            description: 'Carpools drivers posted in each hour.',
            bars: true,
            interval: '1h',
            queries: [{ expr: hourly('mate_carpools_posted_total'), legend: 'posted' }],
          }),
          timeseriesPanel({
            title: 'Seats taken and offered',
            description: 'Seats taken and offered across the day’s carpools, through the day.',
            queries: [
              { expr: seats('mate_seats_offered'), legend: 'offered' },
              { expr: seats('mate_seats_taken'), legend: 'taken' },
            ],
          }),
          timeseriesPanel({
            title: 'Reservations per hour by outcome',
            description: 'Reservation attempts in each hour: reserved, full, already in a carpool, own carpool, not found.',
            bars: true,
            stack: true,
            interval: '1h',
            queries: [{ expr: hourly('mate_reservations_total', 'outcome'), legend: '{{outcome}}' }],
          }),
          timeseriesPanel({
            title: 'Rejected as full per hour',
            description: 'Reservation attempts in each hour that found the carpool already full.',
            bars: true,
            interval: '1h',
            queries: [{ expr: hourly('mate_reservations_total', '', ', outcome="full"'), legend: 'full' }],
          }),
          timeseriesPanel({
            title: 'Cancellations, deletions and reports per hour',
            description: 'Reservations cancelled by passengers, carpools deleted by drivers, and reports filed, in each hour.',
            bars: true,
            interval: '1h',
            w: 24,
            queries: [
              { expr: hourly('mate_reservation_cancellations_total'), legend: 'reservations cancelled' },
              { expr: hourly('mate_carpools_deleted_total'), legend: 'carpools deleted' },
              { expr: hourly('mate_reports_total'), legend: 'reports' },
            ],
          }),
        ],
      },
      {
        title: 'Members',
        panels: [
          timeseriesPanel({
            title: 'Sign-ups per hour',
            description: 'New members in each hour by sign-up provider (mate, kakao, line).',
            bars: true,
            stack: true,
            interval: '1h',
            queries: [{ expr: hourly('mate_signups_total', 'provider'), legend: '{{provider}}' }],
          }),
          timeseriesPanel({
            title: 'Sign-ins per hour by outcome',
            description: 'Sign-in attempts in each hour: success, wrong credentials, banned, rate limited.',
            bars: true,
            stack: true,
            interval: '1h',
            queries: [{ expr: hourly('mate_signins_total', 'outcome'), legend: '{{outcome}}' }],
          }),
        ],
      },
    ],
  });
}
