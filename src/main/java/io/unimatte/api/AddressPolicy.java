package io.unimatte.api;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * Which addresses {@code image_url} may reach: public unicast only, unless {@code config.json}
 * allows loopback or private networks. IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64,
 * 6to4, Teredo) are judged by the address they carry, so {@code 2002:c0a8:0101::} is as private
 * as {@code 192.168.1.1}; the deprecated IPv4-compatible form {@code ::a.b.c.d} is refused outright.
 */
final class AddressPolicy {
  /** How an address is refused; only the first two can be allowed by configuration. */
  private enum Kind { LOOPBACK, PRIVATE, LINK_LOCAL, RESERVED }

  private record Block(byte[] prefix, int bits, Kind kind, String name) {
    boolean contains(byte[] a) {
      if (a.length != prefix.length) {
        return false;
      }
      int full = bits / 8;
      for (int i = 0; i < full; i++) {
        if (a[i] != prefix[i]) {
          return false;
        }
      }
      int rest = bits % 8;
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return rest == 0 || (a[full] & mask) == (prefix[full] & mask);
    }
  }

  /** Checked in order, the first match wins (so {@code ::1} is loopback before {@code ::/96} is reserved). */
  private static final List<Block> BLOCKS = List.of(
      block("0.0.0.0/8", Kind.RESERVED, "'this network'"), // Linux connects 0.x.y.z to the local host
      block("10.0.0.0/8", Kind.PRIVATE, "private"),
      block("100.64.0.0/10", Kind.PRIVATE, "carrier-grade NAT"),
      block("127.0.0.0/8", Kind.LOOPBACK, "loopback"),
      block("169.254.0.0/16", Kind.LINK_LOCAL, "link-local or metadata"),
      block("172.16.0.0/12", Kind.PRIVATE, "private"),
      block("192.0.0.0/24", Kind.PRIVATE, "IETF protocol-assignment"),
      block("192.0.2.0/24", Kind.RESERVED, "documentation"),
      block("192.88.99.0/24", Kind.RESERVED, "6to4 relay"),
      block("192.168.0.0/16", Kind.PRIVATE, "private"),
      block("198.18.0.0/15", Kind.PRIVATE, "benchmarking"),
      block("198.51.100.0/24", Kind.RESERVED, "documentation"),
      block("203.0.113.0/24", Kind.RESERVED, "documentation"),
      block("224.0.0.0/4", Kind.RESERVED, "multicast"),
      block("240.0.0.0/4", Kind.RESERVED, "reserved"), // includes the broadcast address
      block("::/128", Kind.RESERVED, "unspecified"),
      block("::1/128", Kind.LOOPBACK, "loopback"),
      block("::/96", Kind.RESERVED, "IPv4-compatible IPv6"),
      block("100::/64", Kind.RESERVED, "discard"),
      block("64:ff9b:1::/48", Kind.PRIVATE, "local-use NAT64"),
      block("2001:db8::/32", Kind.RESERVED, "documentation"),
      block("fc00::/7", Kind.PRIVATE, "unique-local"),
      block("fe80::/10", Kind.LINK_LOCAL, "link-local"),
      block("fec0::/10", Kind.PRIVATE, "site-local"),
      block("ff00::/8", Kind.RESERVED, "multicast"));

  private static final Block MAPPED = block("::ffff:0:0/96", Kind.RESERVED, "IPv4-mapped");
  private static final Block NAT64 = block("64:ff9b::/96", Kind.RESERVED, "NAT64");
  private static final Block SIX_TO_FOUR = block("2002::/16", Kind.RESERVED, "6to4");
  private static final Block TEREDO = block("2001::/32", Kind.RESERVED, "Teredo");
  private static final int IPV4_BYTES = 4;
  private static final int SIX_TO_FOUR_OFFSET = 2;
  private static final int TAIL_OFFSET = 12;

  private final boolean allowLoopback;
  private final boolean allowPrivate;

  AddressPolicy(boolean allowLoopback, boolean allowPrivate) {
    this.allowLoopback = allowLoopback;
    this.allowPrivate = allowPrivate;
  }

  /** Why {@code a} is refused (e.g. "private", "loopback in 6to4"), or null when it may be fetched. */
  String refusal(InetAddress a) {
    byte[] b = a.getAddress();
    if (a instanceof Inet6Address) {
      // forms that carry an IPv4 address reach that address: judge it instead
      for (Block wrapper : List.of(MAPPED, NAT64, SIX_TO_FOUR, TEREDO)) {
        if (wrapper.contains(b)) {
          String inner = refusal(embedded(wrapper, b));
          return inner == null ? null : wrapper == MAPPED ? inner : inner + " in " + wrapper.name();
        }
      }
    }
    for (Block block : BLOCKS) {
      if (block.contains(b)) {
        boolean allowed = block.kind() == Kind.LOOPBACK ? allowLoopback
            : block.kind() == Kind.PRIVATE && allowPrivate;
        return allowed ? null : block.name();
      }
    }
    return null;
  }

  private static InetAddress embedded(Block wrapper, byte[] b) {
    byte[] v4;
    if (wrapper == SIX_TO_FOUR) {
      v4 = Arrays.copyOfRange(b, SIX_TO_FOUR_OFFSET, SIX_TO_FOUR_OFFSET + IPV4_BYTES);
    } else {
      v4 = Arrays.copyOfRange(b, TAIL_OFFSET, TAIL_OFFSET + IPV4_BYTES);
      if (wrapper == TEREDO) {
        // Teredo stores the client's address with every bit flipped (RFC 4380)
        for (int i = 0; i < v4.length; i++) {
          v4[i] = (byte) ~v4[i];
        }
      }
    }
    try {
      return Inet4Address.getByAddress(v4);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("four bytes are always an IPv4 address", e);
    }
  }

  private static Block block(String cidr, Kind kind, String name) {
    int slash = cidr.indexOf('/');
    try {
      // literals only: getByName never asks DNS for them
      byte[] prefix = InetAddress.getByName(cidr.substring(0, slash)).getAddress();
      if (cidr.startsWith("::ffff:")) {
        // Java turns IPv4-mapped literals into IPv4 addresses; the block is the IPv6 form
        prefix = new byte[16];
        prefix[10] = (byte) 0xFF;
        prefix[11] = (byte) 0xFF;
      }
      return new Block(prefix, Integer.parseInt(cidr.substring(slash + 1)), kind, name);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(cidr, e);
    }
  }
}
