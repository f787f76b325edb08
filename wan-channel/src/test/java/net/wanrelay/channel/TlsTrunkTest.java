package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import net.wanrelay.testsupport.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trunk inside TLS 1.3 with mutual certificates (certificates made with the openssl CLI). */
class TlsTrunkTest {
  @TempDir
  Path dir;
  private EventLoopGroup group;

  @BeforeEach
  void setUp() {
    group = Transports.newGroup(2);
  }

  @AfterEach
  void tearDown() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  private TrunkTls tls(String name, String ca) throws Exception {
    return TrunkTls.fromPem(dir.resolve(name + ".crt").toFile(), dir.resolve(name + ".key").toFile(),
        dir.resolve(ca + ".crt").toFile());
  }

  private TrunkNode sp(TrunkTls tls, SimpleMeterRegistry reg) throws Exception {
    return TrunkNode.builder().nodeId("sp").eventLoopGroup(group).meterRegistry(reg)
        .settings(LoopbackTrunk.testSettings()).listen(new InetSocketAddress("127.0.0.1", 0))
        .serverKey(LoopbackTrunk.KEY).allow(List.of("127.0.0.0/8")).tls(tls).build().start();
  }

  private TrunkNode cp(TrunkTls tls, int port, SimpleMeterRegistry reg) throws Exception {
    return TrunkNode.builder().nodeId("cp").eventLoopGroup(group).meterRegistry(reg)
        .settings(LoopbackTrunk.testSettings())
        .peer(new PeerSpec("sp", "127.0.0.1", port, LoopbackTrunk.KEY, 1)).tls(tls).build().start();
  }

  @Test
  void mutualTlsCarriesTheTrunkAndRefusesForeignCertificates() throws Exception {
    assumeTrue(TestCertificates.opensslAvailable(), "openssl CLI");
    TestCertificates.ca(dir, "ca");
    TestCertificates.cert(dir, "sp", "ca");
    TestCertificates.cert(dir, "cp", "ca");
    TestCertificates.ca(dir, "rogue-ca");
    TestCertificates.cert(dir, "rogue", "rogue-ca");

    SimpleMeterRegistry spReg = new SimpleMeterRegistry();
    TrunkNode sp = sp(tls("sp", "ca"), spReg);
    int port = sp.boundAddress().getPort();
    TrunkNode good = cp(tls("cp", "ca"), port, new SimpleMeterRegistry());
    TrunkNode rogue = cp(tls("rogue", "ca"), port, new SimpleMeterRegistry());
    try (DatagramSocket echo = BlockingServers.udpEcho()) {
      LoopbackTrunk.await(() -> good.link("sp").isUp(), 15_000, "TLS trunk up");
      assertThat(good.connections().get(0).channel().pipeline().get("tls")).isNotNull();
      List<String> replies = new CopyOnWriteArrayList<>();
      UdpFlow flow = good.link("sp").openUdp((InetSocketAddress) echo.getLocalSocketAddress(), null, (f, d) -> {
        replies.add(d.toString(StandardCharsets.US_ASCII));
        d.release();
      });
      flow.send(Unpooled.copiedBuffer("over tls", StandardCharsets.US_ASCII));
      LoopbackTrunk.await(() -> replies.size() == 1, 10_000, "reply over TLS");
      assertThat(replies).containsExactly("over tls");
      flow.close();

      // A certificate from another CA never gets to the PSK step.
      LoopbackTrunk.await(() -> sp.metrics().authFailures("tls") >= 1, 15_000, "rogue refused");
      assertThat(rogue.link("sp").isUp()).isFalse();
    } finally {
      rogue.shutdown(java.time.Duration.ofMillis(200));
      good.shutdown(java.time.Duration.ofMillis(200));
      sp.shutdown(java.time.Duration.ofMillis(200));
    }
  }

  @SuppressWarnings("unused")
  private static void release(ByteBuf b) {
    b.release();
  }
}
