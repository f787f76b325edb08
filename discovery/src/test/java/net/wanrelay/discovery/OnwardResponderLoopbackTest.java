package net.wanrelay.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.wanrelay.discovery.nfqueue.NfqMessages;
import net.wanrelay.discovery.nfqueue.Verdict;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeOptionCodec;
import net.wanrelay.discovery.option.ProbeResponse;
import net.wanrelay.discovery.packet.Ipv4TcpPacket;
import net.wanrelay.discovery.packet.TestPackets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The enhanced-discovery SYN-ACK writer on loopback (no queues, no rules; SO_MARK needs
 * CAP_NET_ADMIN, so root only): the listener's SYN-ACK is held while the onward probe runs; with
 * nobody further answering (the onward probe reached the server, or was refused) the SYN-ACK
 * leaves with this SP's own response; a retransmitted SYN-ACK joins the probe in hand.
 */
class OnwardResponderLoopbackTest {
  private static final ProbeOptionCodec CODEC = new ProbeOptionCodec(OptionFormat.DEFAULT);
  private MultiThreadIoEventLoopGroup group;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void setUp() {
    assumeTrue(Epoll.isAvailable(), "epoll needed");
    assumeTrue(net.wanrelay.discovery.e2e.NamespaceTopologyAccess.isRoot(), "SO_MARK needs CAP_NET_ADMIN");
    group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  }

  @AfterEach
  void tearDown() {
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private DiscoveryResponder responder(ProbeResponse own) {
    Prober prober = new Prober(group, new Prober.Config(OptionFormat.DEFAULT, 0x77, Duration.ofSeconds(2),
        Duration.ofSeconds(2), false), registry);
    return new DiscoveryResponder(group, DiscoveryResponder.Config.defaults(own), registry, seen -> { })
        .probeOnward(prober, Duration.ofSeconds(1));
  }

  private static NfqMessages.Packet queued(long id, int serverPort) {
    byte[] synAck = TestPackets.synAck("127.0.0.1", serverPort, "127.0.0.1", 40000, TestPackets.LINUX_SYNACK_OPTIONS);
    return new NfqMessages.Packet(8, id, 0x0800, 3, 0x78, synAck);
  }

  private static ProbeResponse responseIn(Verdict v) {
    assertThat(v.modified()).as("SYN-ACK rewritten").isTrue();
    Ipv4TcpPacket p = Ipv4TcpPacket.parse(v.payload()).value();
    assertThat(p.checksumsValid()).isTrue();
    return CODEC.decodeResponse(CODEC.findOurs(p.options().value()).orElseThrow()).value();
  }

  @Test
  void withNobodyFurtherTheHeldSynAckLeavesWithOurOwnResponseAndARetransmitJoins() throws Exception {
    ProbeResponse own = new ProbeResponse(1, 0, 7800, List.of((Inet4Address) InetAddress.getByName("10.77.2.2")));
    DiscoveryResponder r = responder(own);
    AtomicInteger accepted = new AtomicInteger();
    try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      Thread acceptor = new Thread(() -> {
        while (true) {
          try (Socket s = ss.accept()) {
            accepted.incrementAndGet();
          } catch (Exception e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      CompletableFuture<Verdict> first = new CompletableFuture<>();
      CompletableFuture<Verdict> retransmit = new CompletableFuture<>();
      r.onwardSynAckWriter().onPacket(queued(1, ss.getLocalPort()), first::complete);
      r.onwardSynAckWriter().onPacket(queued(2, ss.getLocalPort()), retransmit::complete);
      assertThat(responseIn(first.get(10, TimeUnit.SECONDS))).isEqualTo(own);
      assertThat(responseIn(retransmit.get(10, TimeUnit.SECONDS))).isEqualTo(own);
      assertThat(r.events("onward_no_peer")).isEqualTo(1);
      assertThat(r.events("onward_joined")).isEqualTo(1);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (accepted.get() < 1 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(accepted.get()).as("one onward connection for both SYN-ACKs").isEqualTo(1);
    }
  }

  @Test
  void aFailedOnwardProbeAnswersWithOurOwnResponse() throws Exception {
    int closedPort;
    try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      closedPort = ss.getLocalPort();
    }
    ProbeResponse own = new ProbeResponse(1, 0, 7800, List.of((Inet4Address) InetAddress.getByName("10.77.2.2")));
    DiscoveryResponder r = responder(own);
    CompletableFuture<Verdict> v = new CompletableFuture<>();
    r.onwardSynAckWriter().onPacket(queued(1, closedPort), v::complete);
    assertThat(responseIn(v.get(10, TimeUnit.SECONDS))).isEqualTo(own);
    assertThat(r.events("onward_failed")).isEqualTo(1);
  }
}
