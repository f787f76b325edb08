package net.wanrelay.it.discovery;

import static net.wanrelay.it.discovery.DiscoveryBed.awaitMetric;
import static net.wanrelay.it.discovery.DiscoveryBed.metric;
import static net.wanrelay.it.discovery.DiscoveryBed.scrape;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.TestbedAssumptions;
import net.wanrelay.it.netns.Topology;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Transparent UDP end to end in network namespaces (root only; skipped with the reason
 * otherwise): client -> cproxy (CP relay) -> wan -> [sproxy (SP relay)] -> server. The client
 * sends datagrams to the server's own address and port; the CP intercepts the flow (TPROXY, the
 * original destination from IP_RECVORIGDSTADDR), probes the server with a TCP SYN to the same
 * port (the server has no TCP listener there) and either carries the flow on the trunk or
 * passes it through. Payloads are compared by SHA-256 both ways; the server records the source
 * of every datagram and the client the source of every reply.
 */
class TransparentUdpNetnsTest {
  private static final int UDP_PORT = 5300;
  private static final int DATAGRAMS = 200;
  private static final String UDP_TRUNK = "route=\"trunk\"";
  private static final String UDP_PASS = "route=\"passthrough\"";

  @BeforeEach
  void needsTestbed() {
    TestbedAssumptions.assumeTestbed();
  }

  static String cpConfig() {
    return """
        node: { id: cp, admin: 127.0.0.1:9464, drain-timeout: 1s }
        trunk:
          key: "%s"
        intercept:
          tcp-ports: [%d]
          udp-ports: [%d]
          tproxy-listen: 0.0.0.0:7777
          transparent-source: true
          apply-rules: true
        discovery: { probe-timeout: 2s }
        limits: { udp-idle-timeout: 3s }
        """.formatted(DiscoveryBed.KEY, DiscoveryBed.SERVER_PORT, UDP_PORT);
  }

  /**
   * The first flow probes (PMT PEER) and starts the trunk to the SP; its route is the trunk, or
   * pass-through when the trunk took longer than the 3 s wait. The second flow, trunk up, is
   * carried on the trunk without a probe; the SP sends it to the server from the client's address.
   */
  @Test
  void aFlowToAServerBehindAnSpIsCarriedOnTheTrunk() throws Exception {
    Path dir = DiscoveryBed.workDir("udp-with-sp");
    Path jar = DiscoveryBed.relayJar(dir);
    try (Topology t = Topology.builder().withoutWanEmulator().build()) {
      String server = t.address(Topology.SERVER);
      String client = t.address(Topology.CLIENT);
      String spWan = t.address(Topology.SPROXY, Topology.WAN);
      String serverSubnet = server.substring(0, server.lastIndexOf('.')) + ".0/24";
      try (UdpHashEcho srv = t.call(Topology.SERVER, () -> UdpHashEcho.bind(UDP_PORT))) {
        NsProcess sp = DiscoveryBed.startRelay(t, Topology.SPROXY, jar, dir,
            DiscoveryBed.spConfig(spWan + ":7800", serverSubnet));
        NsProcess cp = DiscoveryBed.startRelay(t, Topology.CPROXY, jar, dir, cpConfig());
        try {
          InetSocketAddress dst = new InetSocketAddress(server, UDP_PORT);
          Flow first = Flow.run(t, dst, DATAGRAMS, 1);
          first.assertIntact(srv);
          String m = scrape(t, Topology.CPROXY);
          assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"peer\"")).isEqualTo(1);
          assertThat(metric(m, "wanrelay_pmt_entries", "state=\"peer\"")).isEqualTo(1);
          assertThat(metric(m, "wanrelay_udp_intercept_flows_total")).isEqualTo(1);
          awaitMetric(t, Topology.CPROXY, "wanrelay_trunk_up", v -> v == 1, "peer=\"sp-");

          m = scrape(t, Topology.CPROXY);
          double trunkTx = metric(m, "wanrelay_trunk_bytes_total", "direction=\"tx\"");
          double trunkFlows = metric(m, "wanrelay_udp_intercept_flows_total", UDP_TRUNK);
          Flow second = Flow.run(t, dst, DATAGRAMS, 2);
          second.assertIntact(srv);
          m = scrape(t, Topology.CPROXY);
          assertThat(metric(m, "wanrelay_udp_intercept_flows_total", UDP_TRUNK)).as("second flow on the trunk")
              .isEqualTo(trunkFlows + 1);
          assertThat(metric(m, "wanrelay_discovery_probes_total")).as("no probe to a known server").isEqualTo(1);
          assertThat(metric(m, "wanrelay_sessions_active", "protocol=\"udp\"", UDP_TRUNK)).isGreaterThanOrEqualTo(1);
          assertThat(metric(m, "wanrelay_trunk_bytes_total", "direction=\"tx\"") - trunkTx).as("CP trunk tx bytes")
              .isGreaterThanOrEqualTo(second.sentBytes);
          assertThat(metric(m, "wanrelay_session_bytes_total", "protocol=\"udp\"", UDP_TRUNK,
              "direction=\"server_to_client\"")).isGreaterThanOrEqualTo(second.sentBytes);

          for (Flow f : new Flow[] {first, second}) {
            assertThat(srv.sources(f.clientPort).getAddress().getHostAddress()).as("address the server saw")
                .isEqualTo(client);
          }
          // The SP leg binds the client's own port too (free here): the server saw the client's socket.
          assertThat(srv.sources(second.clientPort).getPort()).isEqualTo(second.clientPort);

          // Idle flows expire (udp-idle-timeout 3 s) and end as sessions by route.
          m = awaitMetric(t, Topology.CPROXY, "wanrelay_udp_flows_active", v -> v == 0);
          assertThat(metric(m, "wanrelay_sessions_total", "protocol=\"udp\"", UDP_TRUNK, "outcome=\"idle_timeout\""))
              .isEqualTo(metric(m, "wanrelay_udp_intercept_flows_total", UDP_TRUNK));
          assertThat(metric(m, "wanrelay_udp_dropped_total")).as("nothing dropped").isZero();
          DiscoveryBed.saveOutput(dir, "sp", sp);
        } finally {
          DiscoveryBed.saveOutput(dir, "cp", cp);
        }
        assertThat(cp.isAlive()).isTrue();
        assertThat(sp.isAlive()).isTrue();
      }
    }
  }

  /**
   * Without an SP the probe SYN meets the server's closed TCP port (RST): no SP on the path, PMT
   * NO_PEER, the flow passes through from the client's address and port, replies come back from
   * the server's address and port. The next flow passes through without a probe.
   */
  @Test
  void withoutAnSpTheFlowPassesThrough() throws Exception {
    Path dir = DiscoveryBed.workDir("udp-without-sp");
    Path jar = DiscoveryBed.relayJar(dir);
    try (Topology t = Topology.builder().withoutSproxy().withoutWanEmulator().build()) {
      String server = t.address(Topology.SERVER);
      String client = t.address(Topology.CLIENT);
      try (UdpHashEcho srv = t.call(Topology.SERVER, () -> UdpHashEcho.bind(UDP_PORT))) {
        NsProcess cp = DiscoveryBed.startRelay(t, Topology.CPROXY, jar, dir, cpConfig());
        try {
          InetSocketAddress dst = new InetSocketAddress(server, UDP_PORT);
          Flow first = Flow.run(t, dst, DATAGRAMS, 3);
          first.assertIntact(srv);
          String m = scrape(t, Topology.CPROXY);
          assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"no_peer\"")).isEqualTo(1);
          assertThat(metric(m, "wanrelay_pmt_entries", "state=\"no_peer\"")).isEqualTo(1);
          assertThat(metric(m, "wanrelay_udp_intercept_flows_total", UDP_PASS)).isEqualTo(1);

          Flow second = Flow.run(t, dst, DATAGRAMS, 4);
          second.assertIntact(srv);
          m = scrape(t, Topology.CPROXY);
          assertThat(metric(m, "wanrelay_discovery_probes_total")).as("no second probe").isEqualTo(1);
          assertThat(metric(m, "wanrelay_udp_intercept_flows_total", UDP_PASS)).isEqualTo(2);
          assertThat(metric(m, "wanrelay_udp_intercept_flows_total", UDP_TRUNK)).isZero();
          assertThat(metric(m, "wanrelay_session_bytes_total", "protocol=\"udp\"", UDP_PASS,
              "direction=\"client_to_server\"")).isEqualTo(first.sentBytes + second.sentBytes);

          for (Flow f : new Flow[] {first, second}) {
            InetSocketAddress seen = srv.sources(f.clientPort);
            assertThat(seen.getAddress().getHostAddress()).as("address the server saw").isEqualTo(client);
            assertThat(seen.getPort()).as("port the server saw").isEqualTo(f.clientPort);
          }
          assertThat(metric(m, "wanrelay_udp_dropped_total")).as("nothing dropped").isZero();
        } finally {
          DiscoveryBed.saveOutput(dir, "cp", cp);
        }
        assertThat(cp.isAlive()).isTrue();
      }
    }
  }

  /**
   * An SP on the path, but the WAN strips unknown TCP options from SYNs: the probe reaches the
   * server without its option, the SP does not take it and the server's closed TCP port answers
   * RST. For the CP that is a path without an SP: NO_PEER, the flow passes through (the SP
   * forwards it like any packet), intact, and the client never sees an error.
   */
  @Test
  void aPathThatStripsTheProbeOptionPassesTheFlowThrough() throws Exception {
    Path dir = DiscoveryBed.workDir("udp-stripped");
    Path jar = DiscoveryBed.relayJar(dir);
    try (Topology t = Topology.builder().build()) {
      String server = t.address(Topology.SERVER);
      String client = t.address(Topology.CLIENT);
      String spWan = t.address(Topology.SPROXY, Topology.WAN);
      String serverSubnet = server.substring(0, server.lastIndexOf('.')) + ".0/24";
      t.wan().stripOptions(true);
      try (UdpHashEcho srv = t.call(Topology.SERVER, () -> UdpHashEcho.bind(UDP_PORT))) {
        NsProcess sp = DiscoveryBed.startRelay(t, Topology.SPROXY, jar, dir,
            DiscoveryBed.spConfig(spWan + ":7800", serverSubnet));
        NsProcess cp = DiscoveryBed.startRelay(t, Topology.CPROXY, jar, dir, cpConfig());
        try {
          Flow flow = Flow.run(t, new InetSocketAddress(server, UDP_PORT), 50, 5);
          flow.assertIntact(srv);
          String m = scrape(t, Topology.CPROXY);
          assertThat(metric(m, "wanrelay_discovery_probes_total", "result=\"no_peer\"")).isEqualTo(1);
          assertThat(metric(m, "wanrelay_pmt_entries", "state=\"peer\"")).isZero();
          assertThat(metric(m, "wanrelay_udp_intercept_flows_total", UDP_PASS)).isEqualTo(1);
          assertThat(t.wan().stats().get("c2s.stripped")).as("the emulator stripped the probe").isGreaterThanOrEqualTo(1);
          assertThat(srv.sources(flow.clientPort).getAddress().getHostAddress()).isEqualTo(client);
          assertThat(metric(scrape(t, Topology.SPROXY), "wanrelay_trunk_bytes_total", "direction=\"rx\""))
              .as("nothing crossed a trunk").isZero();
          DiscoveryBed.saveOutput(dir, "sp", sp);
        } finally {
          DiscoveryBed.saveOutput(dir, "cp", cp);
        }
      }
    }
  }

  /** One client flow: numbered random datagrams sent one at a time, each answered by the server. */
  static final class Flow {
    final int clientPort;
    final long sentBytes;
    final byte[] sentSha;
    final byte[] receivedSha;

    private Flow(int clientPort, long sentBytes, byte[] sentSha, byte[] receivedSha) {
      this.clientPort = clientPort;
      this.sentBytes = sentBytes;
      this.sentSha = sentSha;
      this.receivedSha = receivedSha;
    }

    /** From a new client socket (a new flow): every reply must come from {@code server} itself. */
    static Flow run(Topology t, InetSocketAddress server, int count, long seed) throws Exception {
      DatagramSocket s = t.call(Topology.CLIENT, () -> new DatagramSocket(new InetSocketAddress(0)));
      try (s) {
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        MessageDigest received = MessageDigest.getInstance("SHA-256");
        Random r = new Random(seed);
        long bytes = 0;
        byte[] in = new byte[2048];
        for (int i = 0; i < count; i++) {
          byte[] out = new byte[1 + r.nextInt(1400)];
          r.nextBytes(out);
          sent.update(out);
          bytes += out.length;
          s.send(new DatagramPacket(out, out.length, server));
          // the first datagram waits for the probe (and maybe the trunk): allow for both
          s.setSoTimeout(i == 0 ? 10_000 : 5_000);
          DatagramPacket p = new DatagramPacket(in, in.length);
          try {
            s.receive(p);
          } catch (SocketTimeoutException e) {
            throw new AssertionError("no reply to datagram " + i + " of flow from port " + s.getLocalPort());
          }
          assertThat(p.getSocketAddress()).as("source of the reply").isEqualTo(server);
          assertThat(p.getLength()).isEqualTo(out.length);
          received.update(in, 0, p.getLength());
        }
        return new Flow(s.getLocalPort(), bytes, sent.digest(), received.digest());
      }
    }

    void assertIntact(UdpHashEcho srv) {
      UdpHashEcho.Seen seen = srv.seen(clientPort);
      assertThat(seen).as("server saw the flow from port " + clientPort).isNotNull();
      assertThat(seen.receivedSha()).as("client -> server SHA-256").isEqualTo(sentSha);
      assertThat(seen.sentSha()).as("server -> client SHA-256").isEqualTo(receivedSha);
    }
  }

  /**
   * A UDP server that answers each datagram with its bytes reversed and keeps, per source port,
   * the SHA-256 of what it received and of what it sent, and the source address it saw.
   */
  static final class UdpHashEcho implements AutoCloseable {
    record Seen(InetSocketAddress source, byte[] receivedSha, byte[] sentSha) {}

    private final DatagramSocket socket;
    private final Map<Integer, MessageDigest[]> digests = new ConcurrentHashMap<>();
    private final Map<Integer, InetSocketAddress> sources = new ConcurrentHashMap<>();

    static UdpHashEcho bind(int port) throws IOException {
      return new UdpHashEcho(new DatagramSocket(new InetSocketAddress(port)));
    }

    private UdpHashEcho(DatagramSocket socket) {
      this.socket = socket;
      Thread th = new Thread(this::serve, "udp-hash-echo");
      th.setDaemon(true);
      th.start();
    }

    private void serve() {
      byte[] buf = new byte[65536];
      while (!socket.isClosed()) {
        try {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          socket.receive(p);
          InetSocketAddress from = (InetSocketAddress) p.getSocketAddress();
          byte[] reply = new byte[p.getLength()];
          for (int i = 0; i < reply.length; i++) {
            reply[i] = buf[p.getLength() - 1 - i];
          }
          MessageDigest[] d = digests.computeIfAbsent(from.getPort(), k -> newDigests());
          d[0].update(buf, 0, p.getLength());
          d[1].update(reply);
          sources.putIfAbsent(from.getPort(), from);
          if (!from.equals(sources.get(from.getPort()))) {
            sources.put(from.getPort(), new InetSocketAddress("0.0.0.0", 0)); // two sources: recorded as a mismatch
          }
          socket.send(new DatagramPacket(reply, reply.length, from));
        } catch (IOException e) {
          if (socket.isClosed()) {
            return;
          }
        }
      }
    }

    private static MessageDigest[] newDigests() {
      try {
        return new MessageDigest[] {MessageDigest.getInstance("SHA-256"), MessageDigest.getInstance("SHA-256")};
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    /**
     * What the server saw from source port {@code port}. The reply is reversed, so the client's
     * SHA-256 of the replies equals the server's SHA-256 of what it sent only if every byte came back.
     */
    Seen seen(int port) {
      MessageDigest[] d = digests.get(port);
      if (d == null) {
        return null;
      }
      try {
        return new Seen(sources.get(port), ((MessageDigest) d[0].clone()).digest(), ((MessageDigest) d[1].clone()).digest());
      } catch (CloneNotSupportedException e) {
        throw new IllegalStateException(e);
      }
    }

    InetSocketAddress sources(int port) {
      return sources.get(port);
    }

    @Override
    public void close() {
      socket.close();
    }
  }
}
