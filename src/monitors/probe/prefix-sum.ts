/**
 * POSIX `cksum` arithmetic: what lets a host probe check the prefixes of all its runs' logs with
 * one `head | cksum` instead of one per run. The CRC (polynomial 0x04C11DB7, no reflection,
 * initial 0) is linear, so the sum of several prefixes one after the other follows from each
 * prefix's own sum and length, without their bytes.
 */

const POLY = 0x04c11db7;

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ POLY : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** The CRC register after `bytes`, from `crc` (0 for a fresh one). */
function update(crc: number, bytes: Iterable<number>): number {
  let c = crc;
  for (const b of bytes) c = ((c << 8) ^ (TABLE[((c >>> 24) ^ b) & 0xff] as number)) >>> 0;
  return c;
}

/** The bytes `cksum` appends after the data: the length, least significant byte first. */
function lengthBytes(length: number): number[] {
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.push(n % 256);
  return bytes;
}

/** Product of two polynomials modulo the CRC polynomial (x^32 + POLY). */
function mulMod(a: number, b: number): number {
  let product = 0;
  for (let bit = 31; bit >= 0; bit--) {
    product = product & 0x80000000 ? ((product << 1) ^ POLY) >>> 0 : (product << 1) >>> 0;
    if ((b >>> bit) & 1) product = (product ^ a) >>> 0;
  }
  return product;
}

/** x^n modulo the CRC polynomial; x^-1 is 0x82608EDB (the polynomial has a constant term). */
function xPow(n: number): number {
  let base = n >= 0 ? 2 : 0x82608edb;
  let e = Math.abs(n);
  let result = 1;
  while (e > 0) {
    if (e & 1) result = mulMod(result, base);
    base = mulMod(base, base);
    e = Math.floor(e / 2);
  }
  return result;
}

/** What `cksum` prints for `bytes` (without the length): the CRC as a decimal string. */
export function cksumOf(bytes: Uint8Array): string {
  const crc = update(update(0, bytes), lengthBytes(bytes.length));
  return String(~crc >>> 0);
}

/** A prefix's `cksum` CRC (decimal) and length, as the probe stores them. */
export interface PrefixSum {
  sum: string;
  length: number;
}

/**
 * What `cksum` prints (`<crc> <length>`) for the prefixes' bytes one after the other (what
 * `head -q -c N f1 f2 … | cksum` reads when every file starts with its prefix).
 */
export function concatenatedCksum(parts: readonly PrefixSum[]): string {
  let register = 0;
  let total = 0;
  for (const part of parts) {
    const tail = lengthBytes(part.length);
    // The register after the part alone: undo the length bytes cksum appended after it.
    const withLength = ~Number(part.sum) >>> 0;
    const own = mulMod(withLength ^ update(0, tail), xPow(-8 * tail.length));
    register = (mulMod(register, xPow(8 * part.length)) ^ own) >>> 0;
    total += part.length;
  }
  const tail = lengthBytes(total);
  register = (mulMod(register, xPow(8 * tail.length)) ^ update(0, tail)) >>> 0;
  return `${~register >>> 0} ${total}`;
}
