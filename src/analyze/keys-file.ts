/**
 * Key files the analyser reads (`--keys`) and writes (`--export-keys`):
 * - Wireshark 4.0 `esp_sa` UAT records (8 quoted fields: family, source, destination, SPI,
 *   encryption, encryption key, authentication, authentication key), bare or prefixed with
 *   `uat:esp_sa:` / `-ouat:esp_sa:` — what `imsec demo --keys` writes and what people paste;
 * - `ip xfrm state add … spi … auth-trunc|enc|aead …` lines (imsec's xfrm key export, and what
 *   `ip xfrm state` shows with `-s`).
 * Pure parsing; an unreadable line throws {@link KeysFileError} naming the line. Keys are secret:
 * errors never quote a key.
 */
import { ImsError } from '../common/index.js';
import { WIRESHARK_AUTHENTICATION, WIRESHARK_ENCRYPTION, wiresharkEspSaLine, type EncryptionAlg, type EspKeys, type IntegrityAlg } from '../ipsec/index.js';

export class KeysFileError extends ImsError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super('CONFIG', `keys file line ${line}: ${message}`);
  }
}

/** One SA's keys as given by the user: addresses may be '*' (any). */
export interface GivenSa {
  src: string;
  dst: string;
  spi: number;
  integrity: IntegrityAlg;
  encryption: EncryptionAlg;
  keys: EspKeys;
}

function reverse<K extends string>(o: Record<K, string>): Map<string, K> {
  return new Map(Object.entries(o).map(([k, v]) => [(v as string).toLowerCase(), k as K]));
}
const ENC_BY_NAME = reverse(WIRESHARK_ENCRYPTION);
const AUTH_BY_NAME = reverse(WIRESHARK_AUTHENTICATION);

function quotedFields(s: string, line: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ' || s[i] === ',') i++;
    if (i >= s.length) break;
    if (s[i] !== '"') throw new KeysFileError('esp_sa fields must be quoted', line);
    let v = '';
    i++;
    for (; i < s.length && s[i] !== '"'; i++) v += s[i] === '\\' && i + 1 < s.length ? s[++i] : s[i];
    if (s[i] !== '"') throw new KeysFileError('unterminated quoted field', line);
    i++;
    out.push(v);
  }
  return out;
}

function hexKey(v: string, line: number, what: string): Uint8Array {
  const h = v.replace(/^0x/i, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(h)) throw new KeysFileError(`${what} is not hex`, line);
  return new Uint8Array(Buffer.from(h, 'hex'));
}

function parseSpi(v: string, line: number): number {
  const n = /^0x[0-9a-f]{1,8}$/i.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new KeysFileError(`bad SPI ${JSON.stringify(v.slice(0, 12))}`, line);
  return n;
}

function espSaRecord(rec: string, line: number): GivenSa | undefined {
  const f = quotedFields(rec, line);
  if (f.length !== 8) throw new KeysFileError(`an esp_sa record has 8 fields, found ${f.length}`, line);
  const encryption = ENC_BY_NAME.get(f[4].toLowerCase());
  const integrity = AUTH_BY_NAME.get(f[6].toLowerCase());
  if (!encryption) throw new KeysFileError(`unknown encryption ${JSON.stringify(f[4])}`, line);
  if (!integrity) throw new KeysFileError(`unknown authentication ${JSON.stringify(f[6])}`, line);
  // Wireshark cannot key aes-gmac (no ICV check): such a record carries no usable key.
  if (integrity === 'aes-gmac') return undefined;
  let ek = hexKey(f[5], line, 'encryption key');
  let salt = new Uint8Array(0);
  if (encryption === 'aes-gcm') {
    if (ek.length !== 20) throw new KeysFileError('aes-gcm key must be CK and salt (20 bytes)', line);
    salt = ek.slice(16);
    ek = ek.slice(0, 16);
  }
  return { src: f[1], dst: f[2], spi: parseSpi(f[3], line), integrity: encryption === 'aes-gcm' ? 'null' : integrity, encryption, keys: { integrityKey: hexKey(f[7], line, 'authentication key'), encryptionKey: ek, salt } };
}

const XFRM_AUTH: Record<string, IntegrityAlg> = { 'hmac(md5)': 'hmac-md5-96', 'hmac(sha1)': 'hmac-sha-1-96' };
const XFRM_ENC: Record<string, EncryptionAlg> = { 'ecb(cipher_null)': 'null', 'cipher_null': 'null', 'cbc(aes)': 'aes-cbc', 'cbc(des3_ede)': 'des-ede3-cbc' };

function xfrmRecord(words: string[], line: number): GivenSa {
  const at = (w: string) => words.indexOf(w);
  const val = (w: string) => (at(w) >= 0 ? words[at(w) + 1] : undefined);
  const src = val('src');
  const dst = val('dst');
  const spi = val('spi');
  if (!src || !dst || !spi) throw new KeysFileError('ip xfrm state line needs src, dst and spi', line);
  let integrity: IntegrityAlg = 'null';
  let encryption: EncryptionAlg = 'null';
  let ik: Uint8Array = new Uint8Array(0);
  let ck: Uint8Array = new Uint8Array(0);
  let salt: Uint8Array = new Uint8Array(0);
  const aead = at('aead');
  if (aead >= 0) {
    const k = hexKey(words[aead + 2] ?? '', line, 'aead key');
    if (k.length !== 20) throw new KeysFileError('aead key must be 20 bytes', line);
    if (words[aead + 1] === 'rfc4106(gcm(aes))') [encryption, ck] = ['aes-gcm', k.slice(0, 16)];
    else [integrity, ik] = ['aes-gmac', k.slice(0, 16)];
    salt = k.slice(16);
  } else {
    const a = at('auth-trunc') >= 0 ? at('auth-trunc') : at('auth');
    if (a >= 0) {
      const alg = XFRM_AUTH[words[a + 1]];
      if (!alg) throw new KeysFileError(`unknown auth ${JSON.stringify(words[a + 1])}`, line);
      integrity = alg;
      ik = hexKey(words[a + 2] ?? '', line, 'auth key');
    }
    const e = at('enc');
    if (e >= 0) {
      const alg = XFRM_ENC[words[e + 1]];
      if (!alg) throw new KeysFileError(`unknown enc ${JSON.stringify(words[e + 1])}`, line);
      encryption = alg;
      ck = alg === 'null' ? new Uint8Array(0) : hexKey(words[e + 2] ?? '', line, 'enc key');
    }
  }
  return { src, dst, spi: parseSpi(spi, line), integrity, encryption, keys: { integrityKey: ik, encryptionKey: ck, salt } };
}

/** Parses a keys file (see the module comment). Blank lines and `#` comments are skipped. */
export function parseKeysFile(text: string): GivenSa[] {
  const out: GivenSa[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) return;
    // Policies and other ip commands of an xfrm export carry no keys.
    if (/^ip\s/.test(s) && !/^ip\s+xfrm\s+state\s+add\b/.test(s)) return;
    if (/^ip\s+xfrm\s+state\s+add\b/.test(s)) {
      out.push(xfrmRecord(s.split(/\s+/).map((w) => w.replace(/^'(.*)'$/, '$1')), line));
      return;
    }
    const rec = s.replace(/^-o\s*/, '').replace(/^uat:esp_sa:/, '').replace(/^'(.*)'$/, '$1');
    const sa = espSaRecord(rec, line);
    if (sa) out.push(sa);
  });
  return out;
}

/** The `esp_sa` record of an SA the analyser derived (for `--export-keys`). */
export function exportLine(sa: GivenSa): string {
  return wiresharkEspSaLine({ family: sa.src.includes(':') || sa.dst.includes(':') ? 'IPv6' : 'IPv4', src: sa.src, dst: sa.dst, spi: sa.spi, integrity: sa.integrity, encryption: sa.encryption, keys: sa.keys });
}
