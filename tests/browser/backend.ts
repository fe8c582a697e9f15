/**
 * The API as `service/src/main/api.ts --embedded` starts it, with one
 * difference: its clock can be moved by the parent process (over the IPC
 * channel), so that the journey can post a carpool "in the evening", ride
 * "the next morning" and read the history "after the day rolled over".
 *
 * The started API has no setting that moves its clock; the service reads
 * `deps.clock` at every call (tests replace it, see service/src/features/index.ts),
 * so this launcher replaces it before the features are built, exactly as the
 * test harness does. Nothing else differs from the embedded start.
 *
 * Start: node --import tsx tests/browser/backend.ts, with an IPC channel and the
 * usual environment (MATE_MODE=embedded, MATE_DATA_DIR, PORT, CORS_ORIGINS, …);
 * MATE_JOURNEY_CLOCK (an ISO instant) is where the clock starts.
 * Messages: {type:'clock', at: ISO instant} → {type:'clock', now: ISO instant}.
 * Once listening it sends {type:'ready', url}.
 */
import { createApp } from '../../service/src/app.js';
import { loadConfigOrExit } from '../../service/src/platform/config/index.js';
import { createDeps } from '../../service/src/platform/deps.js';
import { exitOnSignal, listen } from '../../service/src/platform/http/server.js';
import { prepareEmbedded } from '../../service/src/embedded.js';
import { createFeatures } from '../../service/src/features/index.js';

/** Milliseconds added to the real time: the clock runs at the real pace from wherever it was set. */
let offset = process.env.MATE_JOURNEY_CLOCK ? Date.parse(process.env.MATE_JOURNEY_CLOCK) - Date.now() : 0;
if (Number.isNaN(offset)) {
  console.error(`MATE_JOURNEY_CLOCK=${process.env.MATE_JOURNEY_CLOCK} is not an instant`);
  process.exit(2);
}
const clock = () => new Date(Date.now() + offset);

const config = loadConfigOrExit({ embedded: true });
const deps = await createDeps(config);
deps.clock = clock;
await prepareEmbedded(deps);
const features = createFeatures(deps);
await features.services.auth.ensureAdmin();
const running = await listen(createApp(deps, { features }), deps);
exitOnSignal(running, deps);

process.on('message', (msg: { type?: string; at?: string }) => {
  if (msg?.type === 'clock' && msg.at) {
    offset = Date.parse(msg.at) - Date.now();
    process.send?.({ type: 'clock', now: clock().toISOString() });
  }
});
// The parent going away ends this process too (no orphaned API on a crashed test).
process.on('disconnect', () => void running.shutdown().then(() => process.exit(0)));
console.log(`MATE API (embedded, journey clock ${clock().toISOString()}) listening on ${running.url}`);
process.send?.({ type: 'ready', url: running.url });
