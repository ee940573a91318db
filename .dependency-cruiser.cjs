/**
 * The layout of README "Layout", enforced by `npm run lint` (dependency-cruiser 17).
 *
 * - no cycles;
 * - the codecs and the node cores (pure: an injected clock and RNG, I/O only at the edges) reach
 *   no I/O module (node:dgram, node:net, node:fs, pino) through any chain of imports;
 * - a module of one layer (a top folder of src/, or a node folder src/nodes/<node>/) imports
 *   another layer only through an index.ts: the layer's own, or that of one of its sub-layers
 *   (sip/headers/, sip/stack/, web/http/, …), each of which is a folder with its own entry.
 *
 * No exception: the few second entries a layer has (its I/O edge, its validator) are named, each
 * with its reason, in the rule. The cycle rule is run a second time over type-only imports too
 * (.dependency-cruiser-types.cjs).
 */

/** The pure parts: codecs and node cores. */
const PURE = [
  '^src/common/',
  '^src/auth/',
  '^src/secagree/',
  '^src/ipsec/esp/',
  '^src/diameter/codec/',
  // The Diameter layer's entry is pure (its I/O entry is diameter/io.ts), so cores may import it.
  '^src/diameter/index\\.ts$',
  '^src/sip/(message|parser|headers|reginfo)/',
  '^src/xml/',
  '^src/nodes/[^/]+/core\\.ts$',
  // The node shape and the HSS's Cx procedures beside its core.
  '^src/nodes/common/node\\.ts$',
  '^src/nodes/hss/(mar|sar|cx-context)\\.ts$',
];
const IO = ['^(node:)?(dgram|net|fs|fs/promises)$', 'node_modules/pino/'];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules form no cycle (README Layout).',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'pure-reaches-no-io',
      severity: 'error',
      comment: 'Codecs and node cores reach no node:dgram/node:net/node:fs/pino through any import chain (README Layout: I/O only at the edges).',
      from: {
        path: PURE,
        pathNot: [
          // The logger itself: common's I/O edge, kept out of common/index.ts (import it from
          // common/log.ts). Not an exception to remove: this file is the edge.
          '^src/common/log\\.ts$',
        ],
      },
      to: { path: IO, reachable: true },
    },
    {
      name: 'layers-through-index',
      severity: 'error',
      comment: 'One layer imports another only through an index.ts: the layer\'s own, or a sub-layer\'s such as sip/headers/ or web/http/ (README Layout: each folder an index.ts).',
      from: { path: '^src/(nodes/[^/]+|[^/]+)/' },
      to: {
        path: '^src/',
        // common/log.ts is common's second entry: the logger, its I/O edge, kept out of
        // common/index.ts so that importing common loads no logging library; common/udp-buffer.ts
        // likewise (the receive-buffer size of shared UDP sockets, for the socket edges only), and
        // common/schema.ts (TypeBox and ajv: only configs and REST bodies load a validator).
        // diameter/io.ts is the Diameter layer's I/O entry (the
        // DiameterNode driver and the TCP transport), so that diameter/index.ts stays pure.
        pathNot: ['^src/$1/', '/index\\.ts$', '^src/common/(log|udp-buffer|schema)\\.ts$', '^src/diameter/io\\.ts$'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: ['^src/', 'node_modules/pino/', '^(node:)?(dgram|net|fs|fs/promises)$'],
    // Runtime imports only: a type-only import loads nothing. The cycle rule is also run over
    // type imports (npm run lint: depcruise --config .dependency-cruiser-types.cjs).
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    moduleSystems: ['es6', 'cjs'],
  },
};
