/**
 * `imsec demo --web`: the demo's hooks that feed a metrics hub and, when asked, serve the console
 * while the steps run and afterwards, until `hold` resolves (the CLI: until Ctrl-C).
 */
import type { MetricsHub } from '../metrics/index.js';
import type { DemoHooks } from '../nodes/demo/index.js';
import type { HttpAccess } from './http/index.js';
import { addCoreToHub, coreInstrumentation, startCoreConsole, type CoreConsole } from './core-console.js';
import type { WireTap } from '../capture/index.js';

export interface DemoConsoleOptions {
  hub: MetricsHub;
  /** Serve the console (absent: metrics only). */
  web?: { tap: WireTap; listen: { host: string; port: number }; access: HttpAccess; onListening(c: CoreConsole): void };
  /** Resolves when the console may stop (after the steps). */
  hold?: () => Promise<void>;
}

/** The hooks, and the console's close (call it after the demo returned). */
export function demoConsoleHooks(o: DemoConsoleOptions): { hooks: DemoHooks; close(): Promise<void> } {
  let webConsole: CoreConsole | undefined;
  const hooks: DemoHooks = {
    coreDeps: coreInstrumentation(o.hub),
    async onCore(core) {
      addCoreToHub(o.hub, core);
      if (o.web) {
        webConsole = await startCoreConsole(core, { tap: o.web.tap, hub: o.hub, listen: o.web.listen, access: o.web.access });
        o.web.onListening(webConsole);
      }
    },
    onUe(name, ue) {
      if (webConsole) webConsole.addUe(name, ue);
      else o.hub.addUe(ue);
    },
    beforeStop: async () => {
      await o.hold?.();
    },
  };
  return {
    hooks,
    async close() {
      await webConsole?.close();
      o.hub.close();
    },
  };
}
