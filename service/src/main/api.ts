import { createApp } from '../app.js';
import { loadConfigOrExit } from '../platform/config/index.js';
import { createDeps } from '../platform/deps.js';
import { exitOnSignal, listen } from '../platform/http/server.js';
import { prepareEmbedded } from '../embedded.js';
import { createFeatures } from '../features/index.js';

const config = loadConfigOrExit({ embedded: process.argv.includes('--embedded') });
const deps = await createDeps(config);
if (config.mode === 'embedded') await prepareEmbedded(deps);
const features = createFeatures(deps);
await features.services.auth.ensureAdmin();
const running = await listen(createApp(deps, { features }), deps);
exitOnSignal(running, deps);
// The bound address (0.0.0.0 in a pod), then a URL this machine can call.
deps.logger.info({ url: { full: running.url } }, `MATE API (${config.mode}) listening on ${config.HOST}:${running.port} (${running.url})`);
if (config.mode === 'embedded') console.log(`\n  MATE API   ${running.url}/api/v1\n  API docs   ${running.url}/docs\n`);
