package net.wanrelay.core;

import static net.wanrelay.core.PeerRaceTest.await;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.SplittableRandom;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A CP whose peer "hq" is configured at 127.0.0.1:P1. The SP behind it stops and comes back as the
 * same node on 127.0.0.2 with another port; it dials the CP's trunk listener and announces its new
 * address there. The CP's link and PMT follow without a restart and sessions work again.
 */
class PeerAddressChangeTest {
  private static final String KEY = "peer-move-test-key-0123456789";
  private Relay cp;
  private Relay sp;

  @AfterEach
  void tearDown() {
    if (cp != null) {
      cp.close();
    }
    if (sp != null) {
      sp.close();
    }
  }

  @Test
  void cpFollowsAPeerThatCameBackOnANewAddress() throws Exception {
    try (Loopback.BlockingEcho echo = new Loopback.BlockingEcho()) {
      int oldPort = Loopback.freePort();
      int cpTrunk = Loopback.freePort();
      sp = startSp("127.0.0.1", oldPort, "");
      cp = Loopback.startRelay("""
          node: { id: cp, admin: 127.0.0.1:%d }
          trunk:
            listen: 127.0.0.1:%d
            key: "%s"
            peers: [ { name: hq, address: 127.0.0.1:%d, key: "%s", connections: 1 } ]
          listeners:
            - { name: t, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: peer:hq }
          """.formatted(Loopback.freePort(), cpTrunk, KEY, oldPort, KEY, Loopback.freePort(), echo.port()));
      PeerLink hq = cp.trunk().orElseThrow().link("hq");
      await("link up", hq::isUp);
      InetSocketAddress listener = cp.tcpListeners().get(0).localAddress();
      roundTrip(listener, 1);
      assertThat(hq.peerNodeId()).isEqualTo("hq-node");
      assertThat(Loopback.httpGet(cp.adminAddress(), "/api/pmt")).contains("127.0.0.1:" + oldPort);

      sp.close();
      sp = null;
      await("link down", () -> !hq.isUp());
      int newPort = Loopback.freePort();
      // Same node id, new address and port; it dials the CP (both roles) and announces itself.
      sp = startSp("127.0.0.2", newPort, """
            peers: [ { name: cp, address: 127.0.0.1:%d, key: "%s", connections: 1 } ]
          """.formatted(cpTrunk, KEY));
      await("link up at the new address", hq::isUp);
      assertThat(hq.target().getHostString()).isEqualTo("127.0.0.2");
      assertThat(hq.target().getPort()).isEqualTo(newPort);
      assertThat(hq.lastRemoteAddress()).isEqualTo(new InetSocketAddress("127.0.0.2", newPort));
      roundTrip(listener, 2);
      String pmt = Loopback.httpGet(cp.adminAddress(), "/api/pmt");
      assertThat(pmt).contains("127.0.0.2:" + newPort).doesNotContain("127.0.0.1:" + oldPort);
    }
  }

  private static Relay startSp(String host, int trunkPort, String peers) throws Exception {
    return Loopback.startRelay("""
        node: { id: hq-node, admin: 127.0.0.1:%d }
        trunk:
          listen: %s:%d
          key: "%s"
          allow: [ 127.0.0.0/8 ]
        %s""".formatted(Loopback.freePort(), host, trunkPort, KEY, peers));
  }

  private static void roundTrip(InetSocketAddress listener, long seed) throws Exception {
    byte[] data = new byte[256 * 1024];
    new SplittableRandom(seed).nextBytes(data);
    try (Socket s = Loopback.connect(listener)) {
      s.setSoTimeout(15_000);
      OutputStream out = s.getOutputStream();
      out.write(data);
      out.flush();
      byte[] back = s.getInputStream().readNBytes(data.length);
      assertThat(Hashes.sha256Hex(back)).isEqualTo(Hashes.sha256Hex(data));
    }
  }
}
