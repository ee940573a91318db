/**
 * `npm run lint`, second pass: no cycle and no import past a layer's index.ts, even through
 * type-only imports (a type cycle is still two modules that cannot be understood apart, and a
 * type is part of a layer's surface like a value). The other rules are in .dependency-cruiser.cjs.
 */
const base = require('./.dependency-cruiser.cjs');

const circular = base.forbidden.find((r) => r.name === 'no-circular');
const layers = base.forbidden.find((r) => r.name === 'layers-through-index');

module.exports = {
  forbidden: [circular, layers],
  options: { ...base.options, tsPreCompilationDeps: true },
};
