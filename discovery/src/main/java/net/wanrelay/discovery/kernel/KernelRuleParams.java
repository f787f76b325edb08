package net.wanrelay.discovery.kernel;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.rules.Cidr;

/** Everything the kernel rules depend on; defaults follow KERNEL-PATH.md. Fluent setters. */
public final class KernelRuleParams {
  public enum Role { CP, SP }

  Set<Role> roles = EnumSet.noneOf(Role.class);
  List<Integer> interceptTcpPorts = new ArrayList<>();
  List<Integer> interceptUdpPorts = new ArrayList<>();
  int interceptTproxyPort = 7777;
  int discoveryPort = 7801;
  int localMark = 0x1;
  int probeMark = 0x77;
  int listenerMark = 0x78;
  int probeQueue = 7;
  int responseQueue = 8;
  int synAckQueue = 9;
  OptionFormat format = OptionFormat.DEFAULT;
  String nftTable = "wanrelay";
  String comment = "wanrelay";
  int routeTable = 100;
  List<Cidr> peeringPassThroughSources = new ArrayList<>();

  public static KernelRuleParams of(Role... roles) {
    KernelRuleParams p = new KernelRuleParams();
    p.roles.addAll(List.of(roles));
    return p;
  }

  /** CP: TCP ports whose client connections are intercepted (TPROXY to the relay's listener). */
  public KernelRuleParams interceptTcpPorts(List<Integer> ports) {
    ports.forEach(p -> checkPort(p, "intercept port"));
    this.interceptTcpPorts = new ArrayList<>(ports);
    return this;
  }

  /** CP: UDP ports whose client flows are intercepted (TPROXY to the relay's UDP listener, same port). */
  public KernelRuleParams interceptUdpPorts(List<Integer> ports) {
    ports.forEach(p -> checkPort(p, "intercept udp port"));
    this.interceptUdpPorts = new ArrayList<>(ports);
    return this;
  }

  public KernelRuleParams interceptTproxyPort(int port) {
    this.interceptTproxyPort = checkPort(port, "intercept tproxy port");
    return this;
  }

  /** SP: the discovery listener's port (the TPROXY target of probe SYNs). */
  public KernelRuleParams discoveryPort(int port) {
    this.discoveryPort = checkPort(port, "discovery port");
    return this;
  }

  /** The mark that routes packets to local sockets through {@link #routeTable}. */
  public KernelRuleParams localMark(int mark) {
    this.localMark = checkMark(mark);
    return this;
  }

  public KernelRuleParams probeMark(int mark) {
    this.probeMark = checkMark(mark);
    return this;
  }

  public KernelRuleParams listenerMark(int mark) {
    this.listenerMark = checkMark(mark);
    return this;
  }

  public KernelRuleParams queues(int probeQueue, int responseQueue, int synAckQueue) {
    this.probeQueue = checkQueue(probeQueue);
    this.responseQueue = checkQueue(responseQueue);
    this.synAckQueue = checkQueue(synAckQueue);
    return this;
  }

  public KernelRuleParams format(OptionFormat format) {
    this.format = format;
    return this;
  }

  /** Our nft table name and iptables comment: all we add carries them, all we remove is found by them. */
  public KernelRuleParams names(String nftTable, String comment) {
    this.nftTable = checkName(nftTable);
    this.comment = checkName(comment);
    return this;
  }

  public KernelRuleParams routeTable(int table) {
    if (table < 1 || table > 252) {
      throw new IllegalArgumentException("route table must be 1..252, was " + table);
    }
    this.routeTable = table;
    return this;
  }

  /** SP: clients whose probes are not intercepted (peering rules with action pass-through). */
  public KernelRuleParams peeringPassThroughSources(List<Cidr> sources) {
    for (Cidr c : sources) {
      if (!c.isIpv4()) {
        throw new IllegalArgumentException("only IPv4 prefixes are supported: " + c);
      }
    }
    this.peeringPassThroughSources = new ArrayList<>(sources);
    return this;
  }

  public Set<Role> roles() {
    return EnumSet.copyOf(roles.isEmpty() ? EnumSet.noneOf(Role.class) : roles);
  }

  private static int checkPort(int p, String what) {
    if (p < 1 || p > 65535) {
      throw new IllegalArgumentException(what + " must be 1..65535, was " + p);
    }
    return p;
  }

  private static int checkMark(int m) {
    if (m == 0) {
      throw new IllegalArgumentException("mark 0 means unmarked");
    }
    return m;
  }

  private static int checkQueue(int q) {
    if (q < 0 || q > 65535) {
      throw new IllegalArgumentException("queue number must be 0..65535, was " + q);
    }
    return q;
  }

  private static String checkName(String s) {
    if (s == null || !s.matches("[A-Za-z][A-Za-z0-9_-]{0,28}")) {
      throw new IllegalArgumentException("name must be a letter then up to 28 letters/digits/_/-: " + s);
    }
    return s;
  }
}
