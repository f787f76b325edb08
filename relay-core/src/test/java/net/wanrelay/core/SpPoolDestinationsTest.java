package net.wanrelay.core;

import static net.wanrelay.core.PeerRaceTest.await;
import static net.wanrelay.core.PeerRaceTest.metrics;
import static net.wanrelay.core.PeerRaceTest.sum;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An SP maps two OPEN destinations to pools ({@code trunk.destinations}): one pool with a live and
 * a dead member, one with only a dead member and no fallback. Trunk sessions reach only the live
 * member, the member's session count follows the open streams, and the dead pool refuses cleanly.
 */
class SpPoolDestinationsTest {
  private static final String KEY = "sp-pool-test-key-0123456789";
  private Relay sp;
  private Relay cp;

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
  void openDestinationsGoToHealthyPoolMembersOrAreRefused() throws Exception {
    try (RecordingEcho live = new RecordingEcho()) {
      int dead = Loopback.freePort();
      int webService = Loopback.freePort();
      int deadService = Loopback.freePort();
      int trunkPort = Loopback.freePort();
      sp = Loopback.startRelay("""
          node: { id: sp, admin: 127.0.0.1:%d }
          pools:
            web:  { policy: round-robin, members: [ 127.0.0.1:%d, 127.0.0.1:%d ], health: { interval: 100ms, timeout: 200ms, rise: 1, fall: 1 } }
            gone: { members: [ 127.0.0.1:%d ], health: { interval: 100ms, timeout: 200ms, rise: 1, fall: 1 } }
          trunk:
            listen: 127.0.0.1:%d
            key: "%s"
            allow: [ 127.0.0.0/8 ]
            destinations:
              - { match: 127.0.0.1:%d, target: "pool:web" }
              - { match: 127.0.0.1:%d, target: "pool:gone" }
          """.formatted(Loopback.freePort(), live.port(), dead, dead, trunkPort, KEY, webService, deadService));
      cp = Loopback.startRelay("""
          node: { id: cp, admin: 127.0.0.1:%d }
          trunk:
            peers: [ { name: sp, address: 127.0.0.1:%d, key: "%s", connections: 1 } ]
          listeners:
            - { name: web,  protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: peer:sp }
            - { name: gone, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: peer:sp }
          """.formatted(Loopback.freePort(), trunkPort, KEY, Loopback.freePort(), webService, Loopback.freePort(), deadService));
      await("trunk up", () -> cp.trunk().orElseThrow().link("sp").isUp());
      String liveMember = "\"address\":\"127.0.0.1:" + live.port() + "\",\"state\":\"up\"";
      String deadMember = "\"address\":\"127.0.0.1:" + dead + "\",\"state\":\"down\"";
      await("pool web probed", () -> pools().contains(liveMember) && pools().contains(deadMember));

      InetSocketAddress web = cp.tcpListeners().get(0).localAddress();
      List<Socket> held = new ArrayList<>();
      try {
        for (int i = 0; i < 6; i++) {
          Socket s = Loopback.connect(web);
          held.add(s);
          exchange(s, 8 * 1024, i);
        }
        // (connect-only health probes also connect to it, so count bytes, not connections)
        assertThat(live.bytesIn.get()).as("every session on the live member (round robin skips the dead one)")
            .isEqualTo(6 * 8 * 1024);
        await("member sessions follow the open streams", () -> pools().contains(liveMember + ",\"healthy\":true,\"sessions\":6"));
      } finally {
        for (Socket s : held) {
          s.close();
        }
      }
      await("member sessions back to 0", () -> pools().contains(liveMember + ",\"healthy\":true,\"sessions\":0"));

      // The pool with no healthy member and no fallback: OPEN_FAIL, the client is reset, counted.
      assertThat(sessionEndsWithoutData(cp.tcpListeners().get(1).localAddress())).isTrue();
      assertThat(sum(metrics(sp), "wanrelay_sessions_refused_total", "reason=\"no_healthy_upstream\"")).isEqualTo(1);
      assertThat(sum(metrics(cp), "wanrelay_connect_failures_total", "reason=\"denied\"")).isEqualTo(1);
    }
  }

  private String pools() {
    try {
      return Loopback.httpGet(sp.adminAddress(), "/api/pools");
    } catch (IOException e) {
      return "";
    }
  }

  private static void exchange(Socket s, int size, long seed) throws IOException {
    byte[] data = new byte[size];
    new SplittableRandom(seed).nextBytes(data);
    OutputStream out = s.getOutputStream();
    out.write(data);
    out.flush();
    s.setSoTimeout(10_000);
    assertThat(Hashes.sha256Hex(s.getInputStream().readNBytes(size))).isEqualTo(Hashes.sha256Hex(data));
  }

  /**
   * Connects, sends a byte and reads: true when the session ends with EOF or a reset. The relay
   * may reset the connection before the client's connect call has returned (the OPEN_FAIL comes
   * back that fast on loopback), which shows up as a reset from connect itself.
   */
  private static boolean sessionEndsWithoutData(InetSocketAddress listener) throws IOException {
    Socket s;
    try {
      s = Loopback.connect(listener);
    } catch (SocketException reset) {
      return true;
    }
    try (s) {
      s.setSoTimeout(10_000);
      try {
        s.getOutputStream().write(1);
      } catch (SocketException reset) {
        return true;
      }
      return readOrReset(s.getInputStream()) == -1;
    }
  }

  private static int readOrReset(InputStream in) throws IOException {
    try {
      return in.read();
    } catch (SocketException e) {
      return -1;
    }
  }
}
