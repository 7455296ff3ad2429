/**
 * Source addresses for ECP over SFTP: IPv4 and IPv6 addresses and CIDR ranges, parsed and matched with
 * ipaddr.js. A single address is kept as a /32 or /128; IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) count
 * as IPv4 (RFC 4291 §2.5.5.2), both when registered and when matched.
 */
import ipaddr from 'ipaddr.js';
import { SFTP_MIN_PREFIX_LENGTH } from '../../policies/index.js';

/** The outcome of {@link parseSourceRange}: the canonical CIDR, or a message for the form field. */
export type SourceRangeParse = { ok: true; cidr: string } | { ok: false; message: string };

const EXAMPLE = 'e.g. 203.0.113.10, 203.0.113.0/24 or 2001:db8::/48';

/**
 * Parses an address or CIDR range as typed by a person into canonical CIDR (`203.0.113.0/24`, `2001:db8::/48`,
 * `127.0.0.1/32`). Refuses ranges with host bits set (saying which network was meant), zone ids, and ranges
 * wider than `SFTP_MIN_PREFIX_LENGTH`. Never throws.
 */
export function parseSourceRange(text: string): SourceRangeParse {
  const input = text.trim();
  if (input === '') return { ok: false, message: `Enter an IP address or CIDR range, ${EXAMPLE}.` };
  if (input.includes('%')) return { ok: false, message: 'Zone IDs (%…) are not accepted; enter a global address or range.' };
  let address: ipaddr.IPv4 | ipaddr.IPv6;
  let prefix: number;
  try {
    if (input.includes('/')) {
      if (!/\/\d{1,3}$/.test(input)) throw new Error('prefix');
      [address, prefix] = ipaddr.parseCIDR(input);
    } else {
      address = ipaddr.parse(input);
      prefix = address.kind() === 'ipv4' ? 32 : 128;
    }
    if (address.kind() === 'ipv4' && !ipaddr.IPv4.isValidFourPartDecimal(input.split('/')[0]!)) throw new Error('not four-part decimal');
  } catch {
    return { ok: false, message: `This is not an IP address or CIDR range; ${EXAMPLE}.` };
  }
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    if (prefix < 96) return { ok: false, message: 'An IPv4-mapped range needs a prefix of /96 or more; enter the IPv4 range instead.' };
    address = (address as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
  }
  const kind = address.kind();
  const min = SFTP_MIN_PREFIX_LENGTH[kind];
  if (prefix < min) return { ok: false, message: `A range wider than /${min} is not accepted for ${kind === 'ipv4' ? 'IPv4' : 'IPv6'}: list the networks your SFTP clients connect from.` };
  const network = kind === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${prefix}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${prefix}`);
  const canonical = `${network.toNormalizedString() === address.toNormalizedString() ? address.toString() : network.toString()}/${prefix}`;
  if (network.toNormalizedString() !== address.toNormalizedString()) {
    return { ok: false, message: `${input} has host bits set: did you mean ${canonical}?` };
  }
  return { ok: true, cidr: canonical };
}

/**
 * True when `ip` (as a socket reports it, IPv4, IPv6 or IPv4-mapped IPv6) lies in one of `cidrs` (canonical
 * CIDR as stored). False for an address that does not parse.
 */
export function sourceAllowed(ip: string, cidrs: readonly string[]): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const address = ipaddr.process(ip);
  for (const cidr of cidrs) {
    try {
      const range = ipaddr.parseCIDR(cidr);
      if (range[0].kind() === address.kind() && address.match(range)) return true;
    } catch {
      // a malformed stored range never matches
    }
  }
  return false;
}
