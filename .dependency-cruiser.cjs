/**
 * The layout of README "Layout", enforced by `npm run lint` (dependency-cruiser 17).
 *
 * - no cycles;
 * - the codecs and the node cores (pure: an injected clock and RNG, I/O only at the edges) reach
 *   no I/O module (node:dgram, node:net, node:fs, pino) through any chain of imports;
 * - a module of one layer (a top folder of src/, or a node folder src/nodes/<node>/) imports
 *   another layer only through that layer's index.ts.
 *
 * Each exception below names the edge, why it exists today and when it goes. The cycle rule is
 * run a second time over type-only imports too (.dependency-cruiser-types.cjs), where the
 * P-CSCF's ports.ts ↔ state.ts is excepted.
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
  '^src/sip/(message|parser|headers)/',
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
      comment: 'One layer imports another only through its index.ts (README Layout: each folder an index.ts).',
      from: {
        path: '^src/(nodes/[^/]+|[^/]+)/',
        pathNot: [
          // Exceptions, each to be fixed in [M] step 2:
          // - the nodes import the pure inner modules of sip/, diameter/, nodes/common/ and the
          //   other nodes directly, because those layers' indexes also export their transports
          //   (node:dgram, node:net) and the protected transport; step 2 splits those layers
          //   (protected transport beside the SIP transports, pure protocol folders) so that an
          //   index import stays pure;
          '^src/nodes/',
          // - the UE swarm (src/load) is built like the nodes, on the SIP stack and transports.
          '^src/load/',
        ],
      },
      to: {
        path: '^src/',
        // common/log.ts is common's second entry: the logger, its I/O edge, kept out of
        // common/index.ts so that importing common loads no logging library; common/udp-buffer.ts
        // likewise (the receive-buffer size of shared UDP sockets, for the socket edges only).
        // store/sqlite/index.ts and store/postgres/index.ts are the store's driver entries: they
        // load their database driver, so store/index.ts exports only their types (openStore
        // loads them on demand). diameter/io.ts is the Diameter layer's I/O entry (the
        // DiameterNode driver and the TCP transport), so that diameter/index.ts stays pure.
        pathNot: ['^src/$1/', '^src/(nodes/[^/]+|[^/]+)/index\\.ts$', '^src/common/(log|udp-buffer)\\.ts$', '^src/store/(sqlite|postgres)/index\\.ts$', '^src/diameter/io\\.ts$'],
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
