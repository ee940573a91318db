/**
 * Kernel IPsec failures (XFRM through iproute2). The message names the command with its keys
 * redacted; `stderr` carries what `ip` printed (it never echoes key material).
 */
import { ImsError } from '../../common/index.js';

export class IpsecKernelError extends ImsError {
  constructor(
    message: string,
    /** The `ip` argv with keys replaced by `[key]`. */
    readonly command: readonly string[],
    /** What the command wrote to stderr. */
    readonly stderr: string,
    /** Exit status, when it ran. */
    readonly exitCode?: number,
  ) {
    super('IPSEC_KERNEL', message);
  }
}
