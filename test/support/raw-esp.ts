/**
 * Scripted peers for the protected ports: the probe's raw endpoint (src/probe), re-exported for
 * tests that script a UE or a P-CSCF from the specification text.
 */
export { RawPort, handSa, openSip, sealSip, sipText, spiOf, type Datagram, type HandSa } from '../../src/probe/index.js';
