package net.wanrelay.discovery.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.wanrelay.discovery.kernel.CommandRunner;
import org.junit.jupiter.api.Test;

/**
 * On the real kernel (root only): a queued SYN whose handler throws is accepted unchanged and
 * counted; with no worker bound, --queue-bypass lets the SYN through.
 */
class NfQueueFailSafeTest {
  @Test
  void throwingHandlerAndUnboundQueueBothLetTheSynThrough() throws Exception {
    assumeTrue(NamespaceTopology.isRoot(), "needs root (network namespace, NFQUEUE)");
    NamespaceTopology.removeStale();
    Path logs = Files.createDirectories(Path.of("target", "e2e-logs"));
    String ns = NamespaceTopology.uniquePrefix() + "q";
    NamespaceTopology.sh("ip", "netns", "add", ns);
    try {
      NamespaceTopology.in(ns, "ip", "link", "set", "lo", "up");
      NamespaceTopology.in(ns, "iptables", "-w", "-t", "mangle", "-A", "OUTPUT", "-p", "tcp", "--syn", "-d", "127.0.0.1",
          "--dport", "9999", "-j", "NFQUEUE", "--queue-num", "5", "--queue-bypass");
      try (ChildJvm c = ChildJvm.start(ns, "queue-throw", E2eQueueMain.class, logs.resolve("queue-throw.log"),
          "5", "9999", "throw")) {
        assertThat(c.expect("CONNECTED", 40_000)).isEqualTo("CONNECTED packets=1 callbackErrors=1");
      }
      try (ChildJvm c = ChildJvm.start(ns, "queue-none", E2eQueueMain.class, logs.resolve("queue-none.log"),
          "5", "9999", "none")) {
        assertThat(c.expect("CONNECTED", 40_000)).isEqualTo("CONNECTED packets=0 callbackErrors=0");
      }
    } finally {
      CommandRunner.exec(List.of("ip", "netns", "del", ns), null);
    }
  }
}
