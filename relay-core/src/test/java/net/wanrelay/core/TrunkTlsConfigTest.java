package net.wanrelay.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import net.wanrelay.core.config.ConfigException;
import net.wanrelay.core.config.ConfigLoader;
import net.wanrelay.testsupport.TestCertificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code trunk.tls}: TLS 1.3 with mutual certificates between two relays, from the config file. */
class TrunkTlsConfigTest {
  private static final String KEY = "trunk-tls-test-key-0123456789";
  @TempDir
  Path dir;
  private final List<Relay> relays = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @BeforeEach
  void certificates() throws Exception {
    assumeTrue(TestCertificates.opensslAvailable(), "needs the openssl CLI to make test certificates");
    TestCertificates.ca(dir, "ca");
    TestCertificates.cert(dir, "sp", "ca");
    TestCertificates.cert(dir, "cp", "ca");
    TestCertificates.ca(dir, "rogue-ca");
    TestCertificates.cert(dir, "rogue", "rogue-ca");
  }

  @AfterEach
  void tearDown() {
    relays.forEach(Relay::close);
    pool.shutdownNow();
  }

  private String tls(String name, String ca) {
    return "tls: { cert: \"%s\", key: \"%s\", ca: \"%s\" }".formatted(
        dir.resolve(name + ".crt"), dir.resolve(name + ".key"), dir.resolve(ca + ".crt"));
  }

  private Relay start(String yaml) throws Exception {
    Relay r = Loopback.startRelay(yaml);
    relays.add(r);
    return r;
  }

  private Relay sp(int trunkPort) throws Exception {
    return start("""
        node: { id: sp, admin: 127.0.0.1:%d }
        trunk:
          listen: 127.0.0.1:%d
          key: "%s"
          allow: [ 127.0.0.0/8 ]
          %s
        """.formatted(Loopback.freePort(), trunkPort, KEY, tls("sp", "ca")));
  }

  /** A CP whose one listener goes over the trunk to the SP; {@code tlsLine} may be empty. */
  private Relay cp(int trunkPort, int target, String tlsLine) throws Exception {
    return start("""
        node: { id: cp, admin: 127.0.0.1:%d }
        trunk:
          peers: [ { name: sp, address: 127.0.0.1:%d, key: "%s", connections: 1 } ]
          %s
        listeners:
          - { name: t, protocol: tcp, listen: 127.0.0.1:%d, target: 127.0.0.1:%d, via: peer:sp }
        """.formatted(Loopback.freePort(), trunkPort, KEY, tlsLine, Loopback.freePort(), target));
  }

  private static void await(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (!cond.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(cond.getAsBoolean()).as(what).isTrue();
  }

  @Test
  void sessionsCrossATlsTrunkAndPeersWithoutTheRightCertificateAreRefused() throws Exception {
    int trunkPort = Loopback.freePort();
    Relay sp = sp(trunkPort);
    try (Loopback.BlockingEcho echo = new Loopback.BlockingEcho()) {
      Relay good = cp(trunkPort, echo.port(), tls("cp", "ca"));
      await(() -> good.trunk().orElseThrow().link("sp").isUp(), "TLS trunk up");
      assertThat(good.trunk().orElseThrow().connections().get(0).channel().pipeline().get("tls"))
          .as("the trunk connection runs inside TLS").isNotNull();
      InetSocketAddress listener = good.tcpListeners().get(0).localAddress();
      try (Socket s = Loopback.connect(listener)) {
        Future<String> back = pool.submit(() -> Loopback.readAll(s.getInputStream(), new AtomicLong()));
        String sent = Loopback.writeRandom(s.getOutputStream(), 4L << 20, 7);
        s.shutdownOutput();
        assertThat(back.get(60, TimeUnit.SECONDS)).as("SHA-256 of the echo").isEqualTo(sent);
      }

      // Right PSK, but a certificate from another CA, or no TLS at all: never authenticated.
      Relay rogue = cp(trunkPort, echo.port(), tls("rogue", "rogue-ca"));
      Relay plain = cp(trunkPort, echo.port(), "");
      await(() -> sp.trunk().orElseThrow().metrics().authFailures("tls") >= 2, "both refused at the TLS step");
      assertThat(rogue.trunk().orElseThrow().link("sp").isUp()).isFalse();
      assertThat(plain.trunk().orElseThrow().link("sp").isUp()).isFalse();
    }
  }

  @Test
  void aBadCertificateFileIsAConfigErrorAtItsKey() throws Exception {
    Files.writeString(dir.resolve("broken.crt"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    String yaml = """
        node: { id: sp }
        trunk:
          listen: 127.0.0.1:7800
          key: "%s"
          tls: { cert: "%s", key: "%s", ca: "%s" }
        """.formatted(KEY, dir.resolve("broken.crt"), dir.resolve("sp.key"), dir.resolve("ca.crt"));
    assertThatThrownBy(() -> ConfigLoader.parse("f.yaml", yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("f.yaml:5")
        .hasMessageContaining("tls")
        .hasMessageContaining("cannot load the TLS certificate");
  }
}
