export { startOperator } from './controller.js';
export type { OperatorOptions, RunningOperator } from './controller.js';
export { loadOperatorConfig } from './config.js';
export { defaultMonitoringDir, loadMonitoringBundle } from './monitoring.js';
export * from './types.js';
