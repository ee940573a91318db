/**
 * `imsec demo`: the scenario (core + two UEs through registration, protected MESSAGE,
 * re-registration with SA change-over and de-registration), the message ladder decoded from the
 * wire, and the text rendering of the ladder and the SA tables.
 */
export { runDemo, DemoStepError, type DemoOptions, type DemoResult, type DemoStep, type DemoHooks, type DemoKernel } from './scenario.js';
export { demoUeConfig, localDemoUe, nextMessageOf, saRow, snapshotOf, demoRegistration, type DemoUe, type DemoUeSnapshot, type DemoRegistration, type DemoSaRow } from './demo-ue.js';
export { LadderDecoder, DIAMETER_COMMANDS, resultName, sipNotes, diameterNotes, type LadderEntry, type LadderOptions, type LadderProblem, type TransportEspPacket } from './ladder.js';
export { formatLadder, formatSaTable, hexSpi, styles, type PrintOptions } from './print.js';
