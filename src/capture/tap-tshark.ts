/**
 * How tshark/Wireshark 4.0 decodes a capture of the whole network: the Diameter and SIP ports
 * (`-d tcp.port==P,diameter`, `-d udp.port==P,sip`), the ESP keys (the `esp_sa` UAT records of
 * the keys file, given as `-o uat:esp_sa:RECORD`), and ESP in UDP on the protected ports.
 *
 * The last needs a helper. TS 33.203 `mod=UDP-enc-tun` on one host carries the inner IP/UDP packet
 * between the same addresses and protected ports as the outer datagram, and Wireshark 4.0 applies
 * a "Decode As" port rule at every layer: `-d udp.port==P,udpencap` would decode the inner SIP as
 * ESP too. So a small Lua heuristic (no keys in it: SPIs and ports) hands to the ESP dissector
 * only the datagrams on a protected port that start with one of the SPIs; the inner SIP then goes
 * to Wireshark's SIP heuristic. Pure text builders: writing the files is the caller's business.
 */

/** What to decode and where the files are. */
export interface TsharkDecodePlan {
  pcapPath: string;
  /** The `esp_sa` records file (one quoted 8-field record per line). */
  keysPath?: string;
  /** The ESP finder script ({@link espFinderLua}). */
  luaPath?: string;
  /** TCP ports carrying Diameter (3868 is known to tshark already). */
  diameterPorts?: readonly number[];
  /** Unprotected SIP ports (the protected ones must not be listed: they carry ESP). */
  sipUdpPorts?: readonly number[];
  sipTcpPorts?: readonly number[];
}

/** Quotes a word for a POSIX shell. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const uniq = (xs: readonly number[] | undefined): number[] => [...new Set(xs ?? [])].filter((p) => Number.isInteger(p) && p > 0 && p < 65536).sort((a, b) => a - b);

/**
 * The Lua heuristic (see the module comment) for these SPIs and protected ports. RFC 3948 §2.2:
 * an ESP-in-UDP datagram starts with the SPI, never zero; SIP starts with ASCII.
 */
export function espFinderLua(opts: { spis: readonly number[]; ports: readonly number[] }): string {
  const spis = [...new Set(opts.spis)].sort((a, b) => a - b).map((s) => `  [0x${(s >>> 0).toString(16).padStart(8, '0')}] = true,`);
  const ports = uniq(opts.ports).map((p) => `  [${p}] = true,`);
  return [
    '-- imsec: ESP in UDP on the TS 33.203 protected ports (mod=UDP-enc-tun, RFC 3948).',
    '-- The inner packet uses the same ports as the outer one, so a port rule cannot tell them apart;',
    '-- this heuristic hands to the ESP dissector only datagrams that start with a known SPI.',
    '-- Generated with the capture: SPIs and ports only, no keys.',
    'local spis = {',
    ...spis,
    '}',
    'local ports = {',
    ...ports,
    '}',
    'local esp = Dissector.get("esp")',
    'local finder = Proto("imsec_esp_udp", "imsec ESP in UDP on protected ports")',
    'local function heuristic(tvb, pinfo, tree)',
    '  if tvb:len() < 16 then return false end',
    '  if not (ports[pinfo.src_port] or ports[pinfo.dst_port]) then return false end',
    '  if not spis[tvb(0, 4):uint()] then return false end',
    '  esp:call(tvb, pinfo, tree)',
    '  return true',
    'end',
    'finder:register_heuristic("udp", heuristic)',
    '',
  ].join('\n');
}

/**
 * The UDP heuristic dissectors of Wireshark 4.0 that take random bytes now and then, and so an
 * ESP-in-UDP datagram (RFC 3948), whose SPI and ciphertext look random, once heuristics come first
 * (below). Of 200,000 such datagrams on port 4500, RTCP took 0.48%, CLTP 0.02%, WireGuard and
 * MPEG-TS 0.01% each, Thrift 0.006%, Pathport one; with these six off, none of 1,000,000. A
 * datagram they take is not decrypted.
 */
export const TSHARK_RANDOM_BYTE_HEURISTICS: readonly string[] = ['rtcp_udp', 'cltp_udp', 'wg', 'mp2t_udp', 'thrift_udp', 'pathport_udp'];

/**
 * The tshark preferences that decrypt ESP and check its ICVs. `udp.try_heuristic_first` lets the
 * SIP heuristic take a decrypted SIP datagram before the dissector registered on its UDP port:
 * protected ports are ephemeral (TS 33.203 §7.1), some of them belong to dissectors that throw on
 * SIP text (44818 EtherNet/IP, 37008 TZSP, 41170 Manolito, …), and Wireshark 4.0 adds the ESP ICV
 * verdict only after the inner packet was dissected: such a port left the ICV unchecked. The
 * heuristics that would then take ESP-in-UDP datagrams themselves are turned off
 * ({@link TSHARK_RANDOM_BYTE_HEURISTICS}). With both, SIP sealed to every UDP port 1024–65535 is
 * decoded and its ICV checked.
 */
export const TSHARK_ESP_PREFS: readonly string[] = [
  '-o',
  'esp.enable_encryption_decode:TRUE',
  '-o',
  'esp.enable_authentication_check:TRUE',
  '-o',
  'udp.try_heuristic_first:TRUE',
  ...TSHARK_RANDOM_BYTE_HEURISTICS.flatMap((h) => ['--disable-heuristic', h]),
];

/** tshark's arguments for the plan, without the ESP keys (see {@link tsharkDecodeCommand}). */
export function tsharkDecodeArgs(plan: TsharkDecodePlan): string[] {
  const args = ['-r', plan.pcapPath];
  if (plan.luaPath !== undefined) args.push('-X', `lua_script:${plan.luaPath}`);
  args.push(...TSHARK_ESP_PREFS);
  for (const p of uniq(plan.diameterPorts)) if (p !== 3868) args.push('-d', `tcp.port==${p},diameter`);
  for (const p of uniq(plan.sipUdpPorts)) if (p !== 5060) args.push('-d', `udp.port==${p},sip`);
  for (const p of uniq(plan.sipTcpPorts)) if (p !== 5060) args.push('-d', `tcp.port==${p},sip`);
  return args;
}

/** tshark's `-o uat:esp_sa:RECORD` arguments for the records of a keys file's text. */
export function espSaArgs(keysText: string): string[] {
  return keysText
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .flatMap((l) => ['-o', `uat:esp_sa:${l}`]);
}

/**
 * One shell command line that decodes the capture: the keys are read from the keys file at run
 * time (each record becomes `-ouat:esp_sa:RECORD` through `xargs`, GNU), so they never appear on
 * the command line that is printed. More tshark options (`-V`, `-Y sip`, `-T fields …`) can be
 * appended at the end.
 */
export function tsharkDecodeCommand(plan: TsharkDecodePlan): string {
  const tshark = ['tshark', ...tsharkDecodeArgs(plan)].map(shellWord).join(' ');
  if (plan.keysPath === undefined) return tshark;
  return `sed 's/^/-ouat:esp_sa:/' ${shellWord(plan.keysPath)} | xargs -d '\\n' ${tshark}`;
}
