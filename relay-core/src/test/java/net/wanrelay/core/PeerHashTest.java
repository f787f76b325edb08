package net.wanrelay.core;

import static net.wanrelay.core.PeerRaceTest.await;
import static net.wanrelay.core.PeerRaceTest.metrics;
import static net.wanrelay.core.PeerRaceTest.sum;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A consistent-hash peer group over three SPs. Each SP maps the service address to its own
 * server, which answers with the SP's name, so every session tells which SP carried it. Clients
 * come from 50 loopback addresses (the hash key is client address + target), 20 sessions each
 * (1,000), then 2 each after one SP is gone.
 */
class PeerHashTest {
  private static final String KEY = "peer-hash-test-key-0123456789";
  private static final int CLIENTS = 50;
  private static final int SESSIONS_PER_CLIENT = 20;
  private final List<Relay> sps = new ArrayList<>();
  private final List<ServerSocket> servers = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private Relay cp;

  @AfterEach
  void tearDown() throws IOException {
    if (cp != null) {
      cp.close();
    }
    sps.forEach(Relay::close);
    for (ServerSocket s : servers) {
      s.close();
    }
    pool.shutdownNow();
  }

  @Test
  void samePairSameSpAndLosingOneSpMovesOnlyItsPairs() throws Exception {
    int service = Loopback.freePort();
    StringBuilder peers = new StringBuilder();
    for (int i = 1; i <= 3; i++) {
      int backend = nameServer("sp" + i);
      int trunkPort = Loopback.freePort();
      sps.add(Loopback.startRelay("""
          node: { id: sp%d, admin: 127.0.0.1:%d }
          trunk:
            listen: 127.0.0.1:%d
            key: "%s"
            allow: [ 127.0.0.0/8 ]
            destinations: [ { match: 127.0.0.1:%d, target: 127.0.0.1:%d } ]
          """.formatted(i, Loopback.freePort(), trunkPort, KEY, service, backend)));
      peers.append("    - { name: sp%d, address: 127.0.0.1:%d, key: \"%s\", connections: 1 }\n"
          .formatted(i, trunkPort, KEY));
    }
    cp = Loopback.startRelay("""
        node: { id: cp, admin: 127.0.0.1:%d }
        trunk:
          peers:
        %s
        peer-groups:
          site: { peers: [ sp1, sp2, sp3 ], policy: consistent-hash }
        listeners:
          - { name: svc, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: group:site }
        """.formatted(Loopback.freePort(), peers, Loopback.freePort(), service));
    await("all trunks up", () -> cp.trunk().orElseThrow().links().stream().allMatch(l -> l.isUp()));
    InetSocketAddress listener = cp.tcpListeners().get(0).localAddress();

    Map<Integer, String> before = spPerClient(listener, SESSIONS_PER_CLIENT);
    Map<String, Integer> pairsPerSp = new HashMap<>();
    before.values().forEach(sp -> pairsPerSp.merge(sp, 1, Integer::sum));
    assertThat(pairsPerSp.keySet()).as("the ring spreads 50 pairs over all three SPs").containsExactlyInAnyOrder("sp1", "sp2", "sp3");
    assertThat(sum(metrics(cp), "wanrelay_peer_choices_total", "group=\"site\""))
        .isEqualTo(CLIENTS * SESSIONS_PER_CLIENT);

    // sp2 goes away: only the pairs it carried move.
    sps.remove(1).close();
    await("sp2's trunk down", () -> !cp.trunk().orElseThrow().link("sp2").isUp());
    Map<Integer, String> after = spPerClient(listener, 2);
    int moved = 0;
    for (int c = 1; c <= CLIENTS; c++) {
      if (before.get(c).equals("sp2")) {
        assertThat(after.get(c)).isIn("sp1", "sp3");
        moved++;
      } else {
        assertThat(after.get(c)).as("client %d kept its SP", c).isEqualTo(before.get(c));
      }
    }
    assertThat(moved).isEqualTo(pairsPerSp.get("sp2"));
  }

  /** {@code perClient} sessions from each of 50 client addresses; all of one client's sessions must name one SP. */
  private Map<Integer, String> spPerClient(InetSocketAddress listener, int perClient) throws IOException {
    Map<Integer, String> result = new HashMap<>();
    for (int c = 1; c <= CLIENTS; c++) {
      InetAddress from = InetAddress.getByName("127.0.1." + c);
      for (int i = 0; i < perClient; i++) {
        String sp;
        try (Socket s = new Socket()) {
          s.bind(new InetSocketAddress(from, 0));
          s.connect(listener, 5000);
          s.setSoTimeout(10_000);
          sp = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
        String first = result.putIfAbsent(c, sp);
        assertThat(sp).as("session %d of client %d", i, c).isEqualTo(first == null ? sp : first).startsWith("sp");
      }
    }
    return result;
  }

  /** A server that writes {@code name} to every connection and closes it. */
  private int nameServer(String name) throws IOException {
    ServerSocket server = new ServerSocket(0, 256, InetAddress.getLoopbackAddress());
    servers.add(server);
    pool.submit(() -> {
      while (!server.isClosed()) {
        try (Socket s = server.accept()) {
          OutputStream out = s.getOutputStream();
          out.write(name.getBytes(StandardCharsets.US_ASCII));
          s.shutdownOutput();
        } catch (IOException e) {
          if (server.isClosed()) {
            return null;
          }
        }
      }
      return null;
    });
    return server.getLocalPort();
  }
}
