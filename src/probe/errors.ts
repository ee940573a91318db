/** Errors of the probe (R-LAB-3): a run that cannot go on (bad subscriber, silent target). */
import { ImsError } from '../common/index.js';

export class ProbeError extends ImsError {
  constructor(message: string, options?: ErrorOptions) {
    super('PROBE', message, options);
  }
}
