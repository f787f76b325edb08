package net.wanrelay.discovery.rules;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 prefix such as 10.2.0.0/16; a bare address means a host prefix. */
public record Cidr(byte[] network, int prefixLength) {
  public static final Cidr ANY_V4 = parse("0.0.0.0/0");

  /** Parses "a.b.c.d/n", "a.b.c.d", or an IPv6 literal with /n. Throws IllegalArgumentException. */
  public static Cidr parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("empty CIDR");
    }
    String s = text.trim();
    int slash = s.indexOf('/');
    String addr = slash < 0 ? s : s.substring(0, slash);
    if (!addr.matches("[0-9.]+") && !addr.contains(":")) {
      throw new IllegalArgumentException("not an IP literal: " + text); // no DNS lookups here
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(addr).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("bad address in CIDR " + text);
    }
    int bits = bytes.length * 8;
    int len;
    try {
      len = slash < 0 ? bits : Integer.parseInt(s.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad prefix length in CIDR " + text);
    }
    if (len < 0 || len > bits) {
      throw new IllegalArgumentException("prefix length " + len + " out of range in " + text);
    }
    return new Cidr(mask(bytes, len), len);
  }

  private static byte[] mask(byte[] a, int len) {
    byte[] out = a.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, len - i * 8));
      out[i] &= (byte) (0xff << (8 - keep));
    }
    return out;
  }

  /** A copy of the (masked) network address bytes. */
  @Override
  public byte[] network() {
    return network.clone();
  }

  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    return a.length == network.length && java.util.Arrays.equals(mask(a, prefixLength), network);
  }

  public boolean isIpv4() {
    return network.length == 4;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr c && c.prefixLength == prefixLength && java.util.Arrays.equals(c.network, network);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(network) * 31 + prefixLength;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixLength;
    } catch (UnknownHostException e) {
      return "?/" + prefixLength;
    }
  }

}
