package net.wanrelay.channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;

/**
 * SP allow-list: where peer-opened streams may go. Entries are {@code CIDR} or {@code CIDR:port}
 * ({@code 10.2.0.0/16}, {@code 10.3.0.0/16:443}, {@code 127.0.0.1/32:7000}, {@code 2001:db8::/32},
 * {@code [2001:db8::/32]:443}); a bare address means a single host. Empty list: nothing allowed.
 */
public final class AllowList {
  private final List<Rule> rules;

  private record Rule(byte[] network, int prefix, int port, String text) {
    boolean matches(byte[] addr, int p) {
      if (addr.length != network.length || port != 0 && port != p) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (addr[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xFF << (8 - rest)) & 0xFF;
      return (addr[full] & mask) == (network[full] & mask);
    }
  }

  private AllowList(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  public static AllowList none() {
    return new AllowList(List.of());
  }

  /** Parses entries; throws IllegalArgumentException naming the bad entry. */
  public static AllowList parse(List<String> entries) {
    List<Rule> rules = new ArrayList<>();
    for (String e : entries) {
      rules.add(parseRule(e));
    }
    return new AllowList(rules);
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /** True when the (resolved) address and port match a rule. */
  public boolean permits(InetSocketAddress a) {
    if (a == null || a.isUnresolved()) {
      return false;
    }
    byte[] addr = a.getAddress().getAddress();
    for (Rule r : rules) {
      if (r.matches(addr, a.getPort())) {
        return true;
      }
    }
    return false;
  }

  private static Rule parseRule(String entry) {
    String s = entry == null ? "" : entry.trim();
    try {
      String cidr = s;
      int port = 0;
      if (s.startsWith("[")) {
        int close = s.indexOf(']');
        if (close < 0) {
          throw new IllegalArgumentException("missing ]");
        }
        cidr = s.substring(1, close);
        String tail = s.substring(close + 1);
        if (!tail.isEmpty()) {
          if (!tail.startsWith(":")) {
            throw new IllegalArgumentException("expected :port after ]");
          }
          port = parsePort(tail.substring(1));
        }
      } else if (s.indexOf(':') >= 0 && s.indexOf(':') == s.lastIndexOf(':')) { // IPv4 with port
        cidr = s.substring(0, s.indexOf(':'));
        port = parsePort(s.substring(s.indexOf(':') + 1));
      }
      String host = cidr;
      int prefix = -1;
      int slash = cidr.indexOf('/');
      if (slash >= 0) {
        host = cidr.substring(0, slash);
        prefix = Integer.parseInt(cidr.substring(slash + 1));
      }
      if (host.isEmpty() || !host.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.' || c == ':')) {
        throw new IllegalArgumentException("not an IP address: '" + host + "'");
      }
      byte[] net = InetAddress.getByName(host).getAddress();
      int bits = net.length * 8;
      if (prefix < 0) {
        prefix = bits;
      }
      if (prefix > bits) {
        throw new IllegalArgumentException("prefix /" + prefix + " longer than " + bits + " bits");
      }
      return new Rule(net, prefix, port, s);
    } catch (NumberFormatException | UnknownHostException e) {
      throw new IllegalArgumentException("bad allow entry '" + entry + "': " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad allow entry '" + entry + "': " + e.getMessage(), e);
    }
  }

  private static int parsePort(String p) {
    int port = Integer.parseInt(p);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " out of range");
    }
    return port;
  }

  @Override
  public String toString() {
    return rules.stream().map(Rule::text).toList().toString();
  }
}
