package net.wanrelay.it.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The builder's variants route client traffic where they say, and each one is removed afterwards. */
class TopologyVariantsTest {
  private static final long BYTES = 1L << 20;

  @BeforeEach
  void testbed() {
    TestbedAssumptions.assumeTestbed();
  }

  private static void transferTo(Topology t, String server, int port, long seed) throws Exception {
    try (Traffic.TcpSink sink = Traffic.tcpSink(t, server, port)) {
      Traffic.Digest sent = Traffic.sendTcp(t, "client", t.address(server), port, BYTES, seed);
      assertThat(sink.next(60)).isEqualTo(sent);
    }
  }

  @Test
  void withoutSproxyTheWanRoutesStraightToTheServer() throws Exception {
    String runId;
    try (Topology t = Topology.builder().withoutSproxy().build()) {
      runId = t.runId();
      assertThat(t.nodes()).containsExactly("client", "cproxy", "wan", "server");
      assertThat(t.address("server")).isEqualTo("10.9.2.2");
      assertThatThrownBy(() -> t.namespace("sproxy")).hasMessageContaining("no node sproxy");
      transferTo(t, "server", 6001, 1);
      assertThat(t.wan().stats().get("c2s.bytes")).isGreaterThan(BYTES);
    }
    assertThat(Topology.existingNamespaces()).noneMatch(ns -> ns.startsWith(runId));
  }

  @Test
  void aThirdRelayInThePathForwardsEverything() throws Exception {
    try (Topology t = Topology.builder().withThirdRelay().build()) {
      assertThat(t.nodes()).containsExactly("client", "cproxy", "wan", "mproxy", "sproxy", "server");
      long before = Traffic.interfaceCounter(t, "mproxy", "sproxy", "tx_bytes");
      transferTo(t, "server", 6002, 2);
      assertThat(Traffic.interfaceCounter(t, "mproxy", "sproxy", "tx_bytes") - before).isGreaterThan(BYTES);
      assertThat(t.wan().stats().get("c2s.bytes")).isGreaterThan(BYTES);
      assertThat(t.wan().stats().get("s2c.passed")).isPositive();
    }
  }

  @Test
  void twoServersBehindSproxyAreBothReachable() throws Exception {
    try (Topology t = Topology.builder().withSecondServer().withoutWanEmulator().build()) {
      assertThat(t.nodes()).containsExactly("client", "cproxy", "wan", "sproxy", "server", "server2");
      assertThat(t.address("server2")).isEqualTo("10.9.4.2");
      assertThat(t.address("sproxy", "server2")).isEqualTo("10.9.4.1");
      assertThatThrownBy(t::wan).hasMessageContaining("no WAN emulator");
      transferTo(t, "server", 6003, 3);
      long before = Traffic.interfaceCounter(t, "sproxy", "server2", "tx_bytes");
      transferTo(t, "server2", 6003, 4);
      assertThat(Traffic.interfaceCounter(t, "sproxy", "server2", "tx_bytes") - before).isGreaterThan(BYTES);
    }
  }
}
