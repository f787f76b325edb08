package net.wanrelay.discovery.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.discovery.kernel.KernelRuleParams.Role;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.rules.Cidr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The rule text (no root needed) and apply/remove against a recording runner. */
class KernelRulesWriterTest {
  @Test
  void spRulesMatchKernelPath() {
    KernelRuleSet r = KernelRulesWriter.build(KernelRuleParams.of(Role.SP).discoveryPort(7800)
        .peeringPassThroughSources(List.of(Cidr.parse("192.0.2.0/24"))));
    assertThat(r.nftScript()).isEqualTo("""
        add table ip wanrelay
        delete table ip wanrelay
        table ip wanrelay {
          chain prerouting {
            type filter hook prerouting priority mangle; policy accept;
            meta l4proto tcp socket transparent 1 meta mark set 0x1 accept comment "to local transparent sockets"
            meta l4proto udp socket transparent 1 meta mark set 0x1 accept comment "to local transparent udp sockets"
            ip saddr 192.0.2.0/24 tcp flags & (syn|ack) == syn accept comment "peering pass-through"
            tcp flags & (syn|ack) == syn tcp option @253,16,16 0x5752 tproxy to :7800 meta mark set 0x1 accept comment "probe to discovery listener"
          }
        }
        """);
    assertThat(r.iptablesMangleRules()).hasSize(1);
    assertThat(String.join(" ", r.iptablesMangleRules().get(0))).isEqualTo(
        "OUTPUT -p tcp -m tcp --tcp-flags SYN,ACK SYN,ACK -m mark --mark 0x78 -m comment --comment wanrelay"
            + " -j NFQUEUE --queue-num 8 --queue-bypass");
  }

  @Test
  void cpRulesMatchKernelPath() {
    KernelRuleSet r = KernelRulesWriter.build(KernelRuleParams.of(Role.CP).interceptTcpPorts(List.of(80, 443))
        .interceptTproxyPort(7777));
    assertThat(r.nftScript()).contains("tcp dport { 80, 443 } tproxy to :7777 meta mark set 0x1 accept")
        .doesNotContain("tcp option").doesNotContain("udp"); // no UDP ports: no UDP rules at all
    assertThat(r.iptablesMangleRules()).extracting(l -> String.join(" ", l)).containsExactly(
        "OUTPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -m mark --mark 0x77 -m comment --comment wanrelay"
            + " -j NFQUEUE --queue-num 7 --queue-bypass",
        "PREROUTING -p tcp -m tcp --tcp-flags SYN,ACK SYN,ACK --tcp-option 253 -m comment --comment wanrelay"
            + " -j NFQUEUE --queue-num 9 --queue-bypass");
    assertThat(r.ipCommands()).extracting(l -> String.join(" ", l)).containsExactly(
        "rule add fwmark 0x1 lookup 100", "route replace local 0.0.0.0/0 dev lo table 100");
  }

  @Test
  void cpUdpPortsGetTproxyAndTheReturnRule() {
    KernelRuleSet r = KernelRulesWriter.build(KernelRuleParams.of(Role.CP).interceptTcpPorts(List.of(80))
        .interceptUdpPorts(List.of(53, 5300, 53)).interceptTproxyPort(7777));
    assertThat(r.nftScript()).isEqualTo("""
        add table ip wanrelay
        delete table ip wanrelay
        table ip wanrelay {
          chain prerouting {
            type filter hook prerouting priority mangle; policy accept;
            meta l4proto tcp socket transparent 1 meta mark set 0x1 accept comment "to local transparent sockets"
            meta l4proto udp socket transparent 1 meta mark set 0x1 accept comment "to local transparent udp sockets"
            tcp dport { 80 } tproxy to :7777 meta mark set 0x1 accept comment "intercept"
            udp dport { 53, 5300 } tproxy to :7777 meta mark set 0x1 accept comment "intercept udp"
          }
        }
        """);
    // UDP needs no queue: the probe for a UDP flow is a TCP SYN, queued by the TCP rules
    assertThat(r.iptablesMangleRules()).hasSize(2).allMatch(l -> l.contains("tcp"));
    KernelRuleSet udpOnly = KernelRulesWriter.build(KernelRuleParams.of(Role.CP).interceptUdpPorts(List.of(5300)));
    assertThat(udpOnly.nftScript()).contains("udp dport { 5300 } tproxy to :7777").doesNotContain("tcp dport");
    assertThatThrownBy(() -> KernelRuleParams.of(Role.CP).interceptUdpPorts(List.of(0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("intercept udp port");
  }

  @Test
  void kind76WithoutExidAndCustomNames() {
    KernelRuleSet r = KernelRulesWriter.build(KernelRuleParams.of(Role.CP, Role.SP).format(OptionFormat.withoutExid(76))
        .names("wr_test", "wr-test").queues(17, 18, 19).probeMark(0x177).routeTable(123));
    assertThat(r.nftScript()).contains("table ip wr_test {").contains("tcp option @76,0,8 76 tproxy to :7801");
    assertThat(r.iptablesMangleRules()).extracting(l -> String.join(" ", l)).allMatch(s -> s.contains("--comment wr-test"))
        .anyMatch(s -> s.contains("--tcp-option 76 ") && s.contains("--queue-num 19"))
        .anyMatch(s -> s.contains("--mark 0x177") && s.contains("--queue-num 17"))
        .anyMatch(s -> s.contains("--queue-num 18"));
    assertThat(r.print()).contains("nft -f - <<'EOF'").contains("ip rule add fwmark 0x1 lookup 123")
        .contains("iptables -t mangle -C OUTPUT");
  }

  @Test
  void badParametersAreRejected() {
    assertThatThrownBy(() -> KernelRuleParams.of(Role.CP).names("bad name", "x")).hasMessageContaining("name");
    assertThatThrownBy(() -> KernelRuleParams.of(Role.CP).interceptTcpPorts(List.of(0))).hasMessageContaining("1..65535");
    assertThatThrownBy(() -> KernelRuleParams.of(Role.CP).probeMark(0)).hasMessageContaining("mark 0");
    assertThatThrownBy(() -> KernelRuleParams.of(Role.SP).peeringPassThroughSources(List.of(Cidr.parse("::/0"))))
        .hasMessageContaining("IPv4");
  }

  /** Records commands; answers iptables-save with one rule of ours and one foreign rule. */
  static final class Recorder implements CommandRunner {
    final List<String> commands = new ArrayList<>();

    @Override
    public Result run(List<String> command, String stdin) {
      String c = String.join(" ", command);
      commands.add(c);
      if (c.equals("iptables-save -t mangle")) {
        return new Result(0, "*mangle\n-A OUTPUT -p tcp -m comment --comment wanrelay -j NFQUEUE --queue-num 3\n"
            + "-A OUTPUT -p tcp -m comment --comment wanrelay-other -j ACCEPT\n-A OUTPUT -j ACCEPT\nCOMMIT\n", "");
      }
      if (c.startsWith("ip rule del")) {
        return new Result(commands.stream().filter(x -> x.startsWith("ip rule del")).count() <= 1 ? 0 : 2, "", "");
      }
      if (c.equals("ip rule show")) {
        return new Result(0, "0:\tfrom all lookup local\n", "");
      }
      return new Result(0, "", "");
    }
  }

  @Test
  void applyAndRemoveRunTheExpectedCommands() throws IOException {
    KernelRuleSet r = KernelRulesWriter.build(KernelRuleParams.of(Role.CP));
    Recorder rec = new Recorder();
    KernelRulesWriter.apply(r, rec);
    assertThat(rec.commands).contains("ip rule add fwmark 0x1 lookup 100", "nft -f -",
        "iptables -w -t mangle -D OUTPUT -p tcp -m comment --comment wanrelay -j NFQUEUE --queue-num 3");
    assertThat(rec.commands).noneMatch(c -> c.contains("-D") && c.contains("wanrelay-other"));
    assertThat(rec.commands.stream().filter(c -> c.contains("mangle -A"))).hasSize(2);
    Recorder rm = new Recorder();
    KernelRulesWriter.remove(r, rm);
    assertThat(rm.commands).containsSubsequence("nft delete table ip wanrelay", "iptables-save -t mangle",
        "iptables -w -t mangle -D OUTPUT -p tcp -m comment --comment wanrelay -j NFQUEUE --queue-num 3",
        "ip rule del fwmark 0x1 lookup 100", "ip rule del fwmark 0x1 lookup 100", "ip route flush table 100");
  }

  @Test
  void failuresSayWhatFailed() {
    KernelRuleSet r = KernelRulesWriter.build(KernelRuleParams.of(Role.SP));
    CommandRunner failing = (cmd, in) -> new CommandRunner.Result(cmd.get(0).equals("nft") ? 1 : 0, "",
        "Error: Could not process rule: Operation not permitted");
    assertThatThrownBy(() -> KernelRulesWriter.apply(r, failing)).isInstanceOf(IOException.class)
        .hasMessageContaining("nft table wanrelay failed").hasMessageContaining("Operation not permitted");
  }

  @Test
  void netAdminFromProcStatus(@TempDir Path dir) throws IOException {
    Path with = Files.writeString(dir.resolve("with"), "Name:\tjava\nCapEff:\t000001ffffffffff\n");
    Path without = Files.writeString(dir.resolve("without"), "CapEff:\t0000000000000000\n");
    assertThat(KernelSupport.netAdmin(with).available()).isTrue();
    assertThat(KernelSupport.netAdmin(without).available()).isFalse();
    assertThat(KernelSupport.netAdmin(without).detail()).contains("CAP_NET_ADMIN missing");
    assertThat(KernelSupport.netAdmin(dir.resolve("missing")).detail()).contains("unreadable");
  }

  @Test
  void supportReportNamesEveryFeature() {
    KernelSupport.Report rep = KernelSupport.check((cmd, in) -> new CommandRunner.Result(127, "", "not found"),
        Path.of("/proc/self/status"));
    assertThat(rep.features()).containsKeys(KernelSupport.LINUX, KernelSupport.EPOLL, KernelSupport.NET_ADMIN,
        KernelSupport.NFT, KernelSupport.IPTABLES, KernelSupport.NETLINK);
    assertThat(rep.available(KernelSupport.NFT)).isFalse();
    assertThat(rep.discoveryAvailable()).isFalse();
    assertThat(rep.summary()).contains("[off] nft: nft (nftables) for TPROXY rules");
  }
}
