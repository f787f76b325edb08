package net.wanrelay.discovery.kernel;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import net.wanrelay.discovery.kernel.KernelRuleParams.Role;
import net.wanrelay.discovery.rules.Cidr;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Produces, applies and removes the kernel rules of discovery (KERNEL-PATH.md): one nft table of
 * ours (return traffic to transparent sockets, TPROXY of probe SYNs and intercepted ports), the
 * NFQUEUE rules through iptables (nft's own queue is not built here) tagged with our comment, and
 * policy routing of the local mark. {@link #build} needs no privileges; apply/remove need root.
 */
public final class KernelRulesWriter {
  private static final Logger log = LoggerFactory.getLogger(KernelRulesWriter.class);

  private KernelRulesWriter() {}

  public static KernelRuleSet build(KernelRuleParams p) {
    String mark = hex(p.localMark);
    StringBuilder nft = new StringBuilder();
    nft.append("add table ip ").append(p.nftTable).append('\n');
    nft.append("delete table ip ").append(p.nftTable).append('\n');
    nft.append("table ip ").append(p.nftTable).append(" {\n");
    nft.append("  chain prerouting {\n");
    nft.append("    type filter hook prerouting priority mangle; policy accept;\n");
    nft.append("    meta l4proto tcp socket transparent 1 meta mark set ").append(mark)
        .append(" accept comment \"to local transparent sockets\"\n");
    boolean cpUdp = p.roles.contains(Role.CP) && !p.interceptUdpPorts.isEmpty();
    if (cpUdp || p.roles.contains(Role.SP)) {
      // UDP replies to transparent sockets: the CP's per-flow sockets (pass-through leg bound to the
      // client, client-facing socket bound to the server) and the SP's server legs from the client
      nft.append("    meta l4proto udp socket transparent 1 meta mark set ").append(mark)
          .append(" accept comment \"to local transparent udp sockets\"\n");
    }
    if (p.roles.contains(Role.SP)) {
      for (Cidr c : p.peeringPassThroughSources) {
        nft.append("    ip saddr ").append(c).append(" tcp flags & (syn|ack) == syn accept comment \"peering pass-through\"\n");
      }
      nft.append("    tcp flags & (syn|ack) == syn ").append(optionMatch(p)).append(" tproxy to :")
          .append(p.discoveryPort).append(" meta mark set ").append(mark).append(" accept comment \"probe to discovery listener\"\n");
    }
    if (p.roles.contains(Role.CP) && !p.interceptTcpPorts.isEmpty()) {
      String ports = p.interceptTcpPorts.stream().distinct().map(String::valueOf).collect(Collectors.joining(", "));
      nft.append("    tcp dport { ").append(ports).append(" } tproxy to :").append(p.interceptTproxyPort)
          .append(" meta mark set ").append(mark).append(" accept comment \"intercept\"\n");
    }
    if (cpUdp) {
      String ports = p.interceptUdpPorts.stream().distinct().map(String::valueOf).collect(Collectors.joining(", "));
      nft.append("    udp dport { ").append(ports).append(" } tproxy to :").append(p.interceptTproxyPort)
          .append(" meta mark set ").append(mark).append(" accept comment \"intercept udp\"\n");
    }
    nft.append("  }\n}\n");

    List<List<String>> ipt = new ArrayList<>();
    if (p.roles.contains(Role.CP)) {
      ipt.add(List.of("OUTPUT", "-p", "tcp", "-m", "tcp", "--tcp-flags", "FIN,SYN,RST,ACK", "SYN",
          "-m", "mark", "--mark", hex(p.probeMark), "-m", "comment", "--comment", p.comment,
          "-j", "NFQUEUE", "--queue-num", Integer.toString(p.probeQueue), "--queue-bypass"));
      ipt.add(List.of("PREROUTING", "-p", "tcp", "-m", "tcp", "--tcp-flags", "SYN,ACK", "SYN,ACK",
          "--tcp-option", Integer.toString(p.format.kind()), "-m", "comment", "--comment", p.comment,
          "-j", "NFQUEUE", "--queue-num", Integer.toString(p.synAckQueue), "--queue-bypass"));
    }
    if (p.roles.contains(Role.SP)) {
      ipt.add(List.of("OUTPUT", "-p", "tcp", "-m", "tcp", "--tcp-flags", "SYN,ACK", "SYN,ACK",
          "-m", "mark", "--mark", hex(p.listenerMark), "-m", "comment", "--comment", p.comment,
          "-j", "NFQUEUE", "--queue-num", Integer.toString(p.responseQueue), "--queue-bypass"));
    }

    List<List<String>> ip = List.of(
        List.of("rule", "add", "fwmark", mark, "lookup", Integer.toString(p.routeTable)),
        List.of("route", "replace", "local", "0.0.0.0/0", "dev", "lo", "table", Integer.toString(p.routeTable)));
    Map<String, String> sysctls = new LinkedHashMap<>();
    sysctls.put("net.ipv4.ip_forward", "1");
    sysctls.put("net.ipv4.conf.all.rp_filter", "0");
    sysctls.put("net.ipv4.conf.default.rp_filter", "0");
    return new KernelRuleSet(p.nftTable, nft.toString(), ipt, ip, sysctls, p.comment);
  }

  /** nft match of the probe option: the ExID when the format has one, else the kind's presence. */
  private static String optionMatch(KernelRuleParams p) {
    int kind = p.format.kind();
    if (p.format.hasExid()) {
      return "tcp option @" + kind + ",16,16 " + String.format("0x%04x", p.format.exid());
    }
    return "tcp option @" + kind + ",0,8 " + kind;
  }

  private static String hex(int v) {
    return "0x" + Integer.toHexString(v);
  }

  /** Applies the rule set (idempotent: replaces our table, re-adds our iptables rules once). */
  public static void apply(KernelRuleSet rules, CommandRunner run) throws IOException {
    for (Map.Entry<String, String> s : rules.sysctls().entrySet()) {
      check(run.run(List.of("sysctl", "-qw", s.getKey() + "=" + s.getValue()), null), "sysctl " + s.getKey());
    }
    List<String> ipRule = rules.ipCommands().get(0);
    String shown = check(run.run(List.of("ip", "rule", "show"), null), "ip rule show").stdout();
    String want = "fwmark " + ipRule.get(3) + " lookup " + ipRule.get(5);
    if (!shown.contains(want)) {
      check(run.run(prefixed("ip", ipRule), null), "ip rule add");
    }
    for (List<String> c : rules.ipCommands().subList(1, rules.ipCommands().size())) {
      check(run.run(prefixed("ip", c), null), "ip " + String.join(" ", c));
    }
    check(run.run(List.of("nft", "-f", "-"), rules.nftScript()), "nft table " + rules.nftTable());
    removeIptables(rules.comment(), run); // drops rules of ours from older parameters too
    for (List<String> r : rules.iptablesMangleRules()) {
      List<String> add = new ArrayList<>(List.of("iptables", "-w", "-t", "mangle", "-A"));
      add.addAll(r);
      check(run.run(add, null), "iptables " + String.join(" ", r));
    }
    log.info("kernel rules applied (nft table {}, {} iptables rules)", rules.nftTable(), rules.iptablesMangleRules().size());
  }

  /**
   * Removes everything of ours: the nft table, every mangle rule with our comment, and the policy
   * routing of the rule set. Idempotent; sysctls are left as they are.
   */
  public static void remove(KernelRuleSet rules, CommandRunner run) throws IOException {
    CommandRunner.Result del = run.run(List.of("nft", "delete", "table", "ip", rules.nftTable()), null);
    if (!del.ok() && !del.stderr().contains("No such file")) {
      throw new IOException("nft delete table " + rules.nftTable() + " failed: " + del.stderr().trim());
    }
    removeIptables(rules.comment(), run);
    List<String> ipRule = rules.ipCommands().get(0);
    List<String> delRule = new ArrayList<>(ipRule);
    delRule.set(1, "del");
    for (int i = 0; i < 16 && run.run(prefixed("ip", delRule), null).ok(); i++) {
      // an ip rule can exist more than once; delete until none is left
    }
    run.run(List.of("ip", "route", "flush", "table", ipRule.get(5)), null);
  }

  /** Deletes every mangle rule carrying {@code --comment <comment>}. */
  static void removeIptables(String comment, CommandRunner run) throws IOException {
    CommandRunner.Result saved = run.run(List.of("iptables-save", "-t", "mangle"), null);
    if (!saved.ok()) {
      return; // no mangle table at all: nothing of ours
    }
    for (String line : saved.stdout().split("\n")) {
      List<String> words = List.of(line.trim().split("\\s+"));
      int i = words.indexOf("--comment");
      if (!line.startsWith("-A ") || i < 0 || i + 1 >= words.size() || !words.get(i + 1).equals(comment)) {
        continue;
      }
      List<String> cmd = new ArrayList<>(List.of("iptables", "-w", "-t", "mangle", "-D"));
      cmd.addAll(words.subList(1, words.size()));
      check(run.run(cmd, null), "iptables -D " + line);
    }
  }

  private static List<String> prefixed(String tool, List<String> args) {
    List<String> l = new ArrayList<>();
    l.add(tool);
    l.addAll(args);
    return l;
  }

  private static CommandRunner.Result check(CommandRunner.Result r, String what) throws IOException {
    if (!r.ok()) {
      throw new IOException(what + " failed (exit " + r.exitCode() + "): " + r.stderr().trim());
    }
    return r;
  }
}
