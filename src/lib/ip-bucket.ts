/**
 * The unit an IP-keyed throttle counts per. An IPv4 address is one client;
 * an IPv6 client usually holds a whole /64 (SLAAC, privacy addresses), so
 * keying by the full address would give each of its 2^64 addresses a fresh
 * allowance. IPv6 is therefore keyed by its /64 prefix, IPv4-mapped IPv6
 * (`::ffff:192.0.2.1`) by its IPv4 address.
 */

/**
 * The 8 hextets of an IPv6 address, or undefined when it is not one. The
 * WHATWG URL host parser validates and canonicalises it (embedded IPv4,
 * upper case, zero runs), so only the `::` expansion is left to do here.
 */
function ipv6Hextets(address: string): number[] | undefined {
  const text = address.trim().replace(/%.*$/, ""); // a zone (fe80::1%eth0) names an interface, not another client
  if (!text.includes(":")) return undefined;
  let host: string;
  try {
    host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const [head = "", tail] = host.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16)));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

export function ipBucket(ip: string): string {
  const hextets = ipv6Hextets(ip);
  if (hextets?.length !== 8) return ip.trim().toLowerCase();
  const [a, b, c, d, e, f, g, h] = hextets as [number, number, number, number, number, number, number, number];
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff) {
    return `${g >> 8}.${g & 0xff}.${h >> 8}.${h & 0xff}`;
  }
  return `${[a, b, c, d].map((group) => group.toString(16)).join(":")}::/64`;
}
