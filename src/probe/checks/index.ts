/** Every check of the probe, in the order of issue [N] (bid-down, binding, ESP, ports, availability). */
import { availabilityChecks } from './availability.js';
import { bidDownChecks } from './bid-down.js';
import { bindingChecks } from './binding.js';
import type { CheckDef } from './check.js';
import { espChecks } from './esp.js';
import { portRuleChecks } from './port-rules.js';

export { CheckScope, type CheckDef, type Outcome } from './check.js';

export const ALL_CHECKS: readonly CheckDef[] = [...bidDownChecks, ...bindingChecks, ...espChecks, ...portRuleChecks, ...availabilityChecks];
