/**
 * Linux kernel IPsec (XFRM) through iproute2: argv builders (pure), the `ip` runner (the only
 * process spawn), and the datapath that mirrors an SA table into the kernel.
 */
export { IpsecKernelError } from './errors.js';
export {
  algorithmArgs,
  xfrmStateAddArgs,
  xfrmStateDeleteArgs,
  xfrmPolicyAddArgs,
  xfrmPolicyDeleteArgs,
  redactArgs,
  shellQuote,
  xfrmLinesForSa,
  type XfrmOptions,
} from './argv.js';
export { parseStateList, parsePolicyList, type ListedEntry } from './list.js';
export { ipRunner, type XfrmRunner, type RunResult, type IpRunnerOptions } from './runner.js';
export { XfrmDatapath, probeKernelEsp, DEFAULT_REQID_BASE, DEFAULT_REQID_COUNT, NODE_POLICY_LINGER_MS, type XfrmDatapathOptions, type EspProbe } from './datapath.js';
export * from './socket-carrier.js';
