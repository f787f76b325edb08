package net.wanrelay.discovery.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.wanrelay.discovery.kernel.CommandRunner;
import net.wanrelay.discovery.kernel.KernelRuleParams;
import net.wanrelay.discovery.kernel.KernelRuleParams.Role;
import net.wanrelay.discovery.kernel.KernelRuleSet;
import net.wanrelay.discovery.kernel.KernelRulesWriter;
import net.wanrelay.discovery.option.OptionFormat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The discovery path on this kernel, in four namespaces (root only):
 * <ol>
 *   <li>SP in the path: the CP's probe SYN gets the option (CP NFQUEUE), the SP TPROXYs it to its
 *       listener, which reads the probe through TCP_SAVED_SYN; the SP's SYN-ACK gets the response
 *       (SP NFQUEUE); the CP reads it (SYN-ACK NFQUEUE) and its PMT says PEER; the server never
 *       sees the connection.</li>
 *   <li>SP rules removed (nothing of ours left): the probe goes through to the server, which sees
 *       the client's address; no response; NO_PEER, and the probe connection carries data.</li>
 *   <li>The path drops SYNs carrying the option: the plain retry succeeds; STRIPPED, HOLD_DOWN.</li>
 * </ol>
 */
class KernelDiscoveryE2ETest {
  private static final int SERVER_PORT = 8080;
  private static final long START_MS = 40_000;

  @BeforeAll
  static void requireRoot() throws Exception {
    boolean root = NamespaceTopology.isRoot();
    if (!root) {
      System.out.println("KernelDiscoveryE2ETest skipped: needs root (network namespaces, NFQUEUE, TPROXY)");
    }
    assumeTrue(root, "needs root (network namespaces, NFQUEUE, TPROXY)");
    for (String tool : List.of("nft", "iptables", "ip")) {
      assumeTrue(CommandRunner.exec(List.of("which", tool), null).ok(), tool + " not installed");
    }
    NamespaceTopology.removeStale();
  }

  @Test
  void probeAnsweredBySpThenPassThroughWithoutSpThenStripped() throws Exception {
    Path logs = Files.createDirectories(Path.of("target", "e2e-logs"));
    try (NamespaceTopology t = new NamespaceTopology().build()) {
      KernelRuleSet cpRules = KernelRulesWriter.build(KernelRuleParams.of(Role.CP));
      KernelRuleSet spRules = KernelRulesWriter.build(KernelRuleParams.of(Role.SP).discoveryPort(7801));
      KernelRulesWriter.apply(cpRules, CommandRunner.inNamespace(t.cp));
      KernelRulesWriter.apply(spRules, CommandRunner.inNamespace(t.sp));
      KernelRulesWriter.apply(spRules, CommandRunner.inNamespace(t.sp)); // idempotent
      assertThat(NamespaceTopology.in(t.sp, "iptables-save", "-t", "mangle").stdout()
          .lines().filter(l -> l.contains("--comment wanrelay"))).hasSize(1);

      try (ChildJvm server = ChildJvm.start(t.server, "server", E2eServerMain.class, logs.resolve("server.log"),
              Integer.toString(SERVER_PORT));
          ChildJvm sp = ChildJvm.start(t.sp, "sp", E2eSpMain.class, logs.resolve("sp.log"),
              "10.77.2.2", "7800", "7801", "0x78", "8");
          ChildJvm cp = ChildJvm.start(t.cp, "cp", E2eCpMain.class, logs.resolve("cp.log"),
              "0x77", "7", "9", "1500")) {
        server.expect("READY", START_MS);
        sp.expect("READY", START_MS);
        cp.expect("READY", START_MS);

        // 1. SP in the path
        cp.send("PROBE 10.77.1.2 10.77.3.2 " + SERVER_PORT);
        String peer = cp.expect("OUTCOME", 20_000);
        assertThat(peer).startsWith("OUTCOME PEER 10.77.2.2:7800 pmt=PEER inflight=0");
        assertThat(sp.expect("PROBE", 5_000)).isEqualTo("PROBE 10.77.1.2 10.77.3.2:" + SERVER_PORT + " version=1");
        assertThat(server.drain("ACCEPT")).isEmpty(); // the SP answered in the server's place

        // 2. No SP: stop it and remove its rules; nothing of ours may remain
        sp.stop();
        KernelRulesWriter.remove(spRules, CommandRunner.inNamespace(t.sp));
        KernelRulesWriter.remove(spRules, CommandRunner.inNamespace(t.sp)); // idempotent
        assertThat(NamespaceTopology.in(t.sp, "nft", "list", "tables").stdout()).doesNotContain("wanrelay");
        assertThat(NamespaceTopology.in(t.sp, "iptables-save", "-t", "mangle").stdout()).doesNotContain("wanrelay");
        assertThat(NamespaceTopology.in(t.sp, "ip", "rule", "show").stdout()).doesNotContain("fwmark");
        cp.send("PROBE 10.77.1.2 10.77.3.2 " + SERVER_PORT);
        String noPeer = cp.expect("OUTCOME", 20_000);
        assertThat(noPeer).startsWith("OUTCOME NO_PEER echo=hello-10.77.1.2 from=10.77.1.2 pmt=NO_PEER");
        assertThat(server.expect("ACCEPT", 5_000)).isEqualTo("ACCEPT 10.77.1.2"); // transparent source

        // 3. A path that drops SYNs carrying the option
        NamespaceTopology.in(t.sp, "iptables", "-w", "-A", "FORWARD", "-p", "tcp", "--syn", "-m", "tcp",
            "--tcp-option", "253", "-j", "DROP");
        cp.send("PROBE 10.77.1.2 10.77.3.2 " + SERVER_PORT);
        String stripped = cp.expect("OUTCOME", 20_000);
        assertThat(stripped).startsWith("OUTCOME STRIPPED echo=hello-10.77.1.2 from=10.77.1.2 pmt=HOLD_DOWN");
        assertThat(server.expect("ACCEPT", 5_000)).isEqualTo("ACCEPT 10.77.1.2");
      } finally {
        KernelRulesWriter.remove(cpRules, CommandRunner.inNamespace(t.cp));
      }
    }
  }

  /** Kind 76 without ExID: the nft raw match on the kind alone, and both NFQUEUE handlers. */
  @Test
  void kind76WithoutExidIsAnsweredToo() throws Exception {
    Path logs = Files.createDirectories(Path.of("target", "e2e-logs"));
    try (NamespaceTopology t = new NamespaceTopology().build()) {
      OptionFormat k76 = OptionFormat.withoutExid(76);
      KernelRuleSet cpRules = KernelRulesWriter.build(KernelRuleParams.of(Role.CP).format(k76));
      KernelRuleSet spRules = KernelRulesWriter.build(KernelRuleParams.of(Role.SP).format(k76).discoveryPort(7801));
      KernelRulesWriter.apply(cpRules, CommandRunner.inNamespace(t.cp));
      KernelRulesWriter.apply(spRules, CommandRunner.inNamespace(t.sp));
      try (ChildJvm server = ChildJvm.start(t.server, "server76", E2eServerMain.class, logs.resolve("server76.log"),
              Integer.toString(SERVER_PORT));
          ChildJvm sp = ChildJvm.start(t.sp, "sp76", E2eSpMain.class, logs.resolve("sp76.log"),
              "10.77.2.2", "7800", "7801", "0x78", "8", "76", "none");
          ChildJvm cp = ChildJvm.start(t.cp, "cp76", E2eCpMain.class, logs.resolve("cp76.log"),
              "0x77", "7", "9", "1500", "76", "none")) {
        server.expect("READY", START_MS);
        sp.expect("READY", START_MS);
        cp.expect("READY", START_MS);
        cp.send("PROBE 10.77.1.2 10.77.3.2 " + SERVER_PORT);
        assertThat(cp.expect("OUTCOME", 20_000)).startsWith("OUTCOME PEER 10.77.2.2:7800 pmt=PEER");
        assertThat(sp.expect("PROBE", 5_000)).isEqualTo("PROBE 10.77.1.2 10.77.3.2:" + SERVER_PORT + " version=1");
        assertThat(server.drain("ACCEPT")).isEmpty();
      }
    }
  }
}
