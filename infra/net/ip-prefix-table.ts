import { isIP } from 'node:net';

// Addresses become bigints (32 bits for IPv4, 128 for IPv6) so one longest-prefix walk serves both.

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export interface IpPrefix {
  readonly family: 4 | 6;
  readonly bits: number;
  /** The network address with host bits cleared. */
  readonly network: bigint;
  readonly text: string;
}

/**
 * A dotted quad from `start` to the end of `text`, as node:net's isIP accepts it (no leading
 * zeros): a scan of char codes, since every request's peer address is parsed.
 */
const MAPPED_V4_PREFIX = /^::ffff:/i;
const MAPPED_V4_PREFIX_LENGTH = '::ffff:'.length;

function parseDottedQuad(text: string, start: number): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2e) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (code >= 0x30 && code <= 0x39) {
      if (digits === 1 && octet === 0) return undefined;
      octet = octet * 10 + code - 0x30;
      if (++digits > 3 || octet > 255) return undefined;
    } else return undefined;
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : undefined;
}

function parseIpv4(text: string): bigint | undefined {
  const value = parseDottedQuad(text, 0);
  return value === undefined ? undefined : BigInt(value);
}

function parseIpv6(text: string): bigint | undefined {
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIpv4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const toGroups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = toGroups(halves[0]!);
  const right = halves.length === 2 ? toGroups(halves[1]!) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return undefined;
    value = (value << 16n) | BigInt(parseInt(group, 16));
  }
  if (tailV4 !== undefined) value = (value & ~0xffffffffn) | tailV4;
  return value;
}

/**
 * Parses a textual IPv4 or IPv6 address (zone ids are refused). IPv4-mapped IPv6 addresses
 * (`::ffff:127.0.0.1`, as Node reports IPv4 peers on dual-stack sockets) become plain IPv4.
 */
export function parseIpAddress(text: string): IpAddress | undefined {
  // The shapes TCP peers have, read without the general parser: IPv4, and IPv4-mapped IPv6.
  const v4 = parseDottedQuad(text, MAPPED_V4_PREFIX.test(text) ? MAPPED_V4_PREFIX_LENGTH : 0);
  if (v4 !== undefined) return { family: 4, value: BigInt(v4) };
  const family = isIP(text);
  if (family === 6 && !text.includes('%')) {
    const value = parseIpv6(text);
    if (value === undefined) return undefined;
    if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
    return { family: 6, value };
  }
  return undefined;
}

function widthOf(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function computeMask(width: number, bits: number): bigint {
  return bits === 0 ? 0n : ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - bits)) - 1n);
}

// Every prefix length's mask, made once: a table lookup tests each entry per request.
const MASKS = { 4: Array.from({ length: 33 }, (_, bits) => computeMask(32, bits)), 6: Array.from({ length: 129 }, (_, bits) => computeMask(128, bits)) };

function maskOf(family: 4 | 6, bits: number): bigint {
  return MASKS[family][bits]!;
}

/** `10.0.0.0/8`, `2001:db8::/32`; a bare address is a host prefix (/32 or /128). */
export function parseIpPrefix(text: string): IpPrefix {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseIpAddress(addressText.trim());
  if (!address) throw new Error(`"${text}" is not an IPv4 or IPv6 prefix such as 10.0.0.0/8 or 2001:db8::/32`);
  if (address.family === 4 && isIP(addressText.trim()) === 6) {
    throw new Error(`"${text}" is an IPv4-mapped IPv6 prefix; write the IPv4 prefix instead`);
  }
  const width = widthOf(address.family);
  const bitsText = slash === -1 ? String(width) : text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > width) {
    throw new Error(`"${text}" has a prefix length outside 0..${width}`);
  }
  const bits = Number(bitsText);
  const network = address.value & maskOf(address.family, bits);
  return { family: address.family, bits, network, text: `${addressText.trim()}/${bits}` };
}

export function prefixContains(prefix: IpPrefix, address: IpAddress): boolean {
  return prefix.family === address.family && (address.value & maskOf(prefix.family, prefix.bits)) === prefix.network;
}

export interface PrefixTable<T> {
  /** The value of the longest prefix containing the address, if any. */
  lookup(address: IpAddress): T | undefined;
  readonly size: number;
}

/** A longest-prefix-match table; entries are few (operator-written), so a sorted scan suffices. */
export function createPrefixTable<T>(entries: readonly { prefix: IpPrefix; value: T }[]): PrefixTable<T> {
  const sorted = [...entries].sort((a, b) => b.prefix.bits - a.prefix.bits);
  return {
    size: sorted.length,
    lookup(address) {
      for (const entry of sorted) if (prefixContains(entry.prefix, address)) return entry.value;
      return undefined;
    },
  };
}
