package net.wanrelay.discovery.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import net.wanrelay.discovery.kernel.CommandRunner;
import net.wanrelay.discovery.kernel.KernelRuleParams;
import net.wanrelay.discovery.kernel.KernelRuleParams.Role;
import net.wanrelay.discovery.kernel.KernelRuleSet;
import net.wanrelay.discovery.kernel.KernelRulesWriter;
import org.junit.jupiter.api.Test;

/** apply/remove on the real tools in a scratch namespace (root only): idempotent, and removal leaves nothing of ours. */
class KernelRulesApplyTest {
  private static long count(String text, String needle) {
    return text.lines().filter(l -> l.contains(needle)).count();
  }

  @Test
  void applyTwiceThenRemoveTwiceLeavesOnlyOthersRules() throws Exception {
    assumeTrue(NamespaceTopology.isRoot(), "needs root (network namespace, nft, iptables)");
    NamespaceTopology.removeStale();
    String ns = NamespaceTopology.uniquePrefix() + "rules";
    NamespaceTopology.sh("ip", "netns", "add", ns);
    try {
      CommandRunner run = CommandRunner.inNamespace(ns);
      NamespaceTopology.in(ns, "iptables", "-w", "-t", "mangle", "-A", "OUTPUT", "-p", "tcp", "-m", "comment",
          "--comment", "someone-else", "-j", "ACCEPT");
      KernelRuleSet rules = KernelRulesWriter.build(KernelRuleParams.of(Role.CP, Role.SP)
          .interceptTcpPorts(List.of(80, 443)).interceptUdpPorts(List.of(5300)));
      KernelRulesWriter.apply(rules, run);
      KernelRulesWriter.apply(rules, run);

      String nft = NamespaceTopology.in(ns, "nft", "list", "table", "ip", "wanrelay").stdout();
      assertThat(count(nft, "l4proto tcp socket transparent 1")).isEqualTo(1);
      assertThat(count(nft, "l4proto udp socket transparent 1")).isEqualTo(1);
      assertThat(count(nft, "tproxy to :7801")).isEqualTo(1);
      assertThat(count(nft, "tproxy to :7777")).isEqualTo(2); // tcp and udp dport
      String ipt = NamespaceTopology.in(ns, "iptables-save", "-t", "mangle").stdout();
      assertThat(count(ipt, "--comment wanrelay")).isEqualTo(3);
      assertThat(count(ipt, "--comment someone-else")).isEqualTo(1);
      assertThat(count(NamespaceTopology.in(ns, "ip", "rule", "show").stdout(), "fwmark 0x1 lookup 100")).isEqualTo(1);
      assertThat(NamespaceTopology.in(ns, "ip", "route", "show", "table", "100").stdout()).contains("local default dev lo");

      KernelRulesWriter.remove(rules, run);
      KernelRulesWriter.remove(rules, run);
      assertThat(NamespaceTopology.in(ns, "nft", "list", "tables").stdout()).doesNotContain("wanrelay");
      String after = NamespaceTopology.in(ns, "iptables-save", "-t", "mangle").stdout();
      assertThat(count(after, "wanrelay")).isZero();
      assertThat(count(after, "--comment someone-else")).isEqualTo(1);
      assertThat(NamespaceTopology.in(ns, "ip", "rule", "show").stdout()).doesNotContain("fwmark");
      assertThat(NamespaceTopology.in(ns, "ip", "route", "show", "table", "100").stdout()).isBlank();
    } finally {
      CommandRunner.exec(List.of("ip", "netns", "del", ns), null);
    }
  }
}
