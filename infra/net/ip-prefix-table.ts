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

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = (value << 8n) | BigInt(Number(part));
  }
  return value;
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
  const family = isIP(text);
  if (family === 4) {
    const value = parseIpv4(text);
    return value === undefined ? undefined : { family: 4, value };
  }
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

function maskOf(family: 4 | 6, bits: number): bigint {
  const width = BigInt(widthOf(family));
  return bits === 0 ? 0n : ((1n << width) - 1n) ^ ((1n << (width - BigInt(bits))) - 1n);
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
