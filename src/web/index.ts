/**
 * The web side of imsec (R-LAB-5): the access rule of every HTTP listener (http/),
 * the console (live model, server, assets) and the /metrics listener of node processes.
 */
export * from './http/index.js';
export { redactSipText, sipText, diameterText, redactingRender, SECRET, SECRET_AVPS } from './message-text.js';
export { ConsoleModel, legOf, usersOf, type ConsoleEntry, type ConsoleState, type LiveSources, type LiveEvent, type SaSetView, type RegistrationView } from './live.js';
export { createConsoleApp, startConsoleServer, type ConsoleServer, type ConsoleServerOptions, type HssRestUpstream } from './console-server.js';
export { FeedSources, startProcessesConsole, FEED_MAX_ROWS, type ConsoleFeedMessage } from './processes-console.js';
export { startMetricsServer, addMetricsRoute, type MetricsListener, type MetricsSource } from './metrics-server.js';
export { startCoreConsole, coreInstrumentation, addCoreToHub, consoleTap, CONSOLE_MAX_PACKETS, type CoreConsole } from './core-console.js';
export { demoConsoleHooks, type DemoConsoleOptions } from './demo-console.js';
