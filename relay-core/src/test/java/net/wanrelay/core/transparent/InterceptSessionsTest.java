package net.wanrelay.core.transparent;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.net.Transport;
import net.wanrelay.core.tcp.SessionLimiter;
import net.wanrelay.discovery.ProbeOutcome;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import net.wanrelay.discovery.rules.InPathRule;
import net.wanrelay.discovery.rules.InPathRules;
import net.wanrelay.testsupport.RefusedSessions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CP session logic on loopback without TPROXY: the intercept listener is a plain loopback
 * listener whose "original destination" is mapped to an echo server, and the prober is a fake
 * that answers what each test wants. Asserts bytes by SHA-256, routes and counters.
 */
class InterceptSessionsTest {
  private final Transport transport = Transport.detect();
  private EventLoopGroup boss;
  private EventLoopGroup workers;
  private EventLoopGroup probeGroup;
  private RelayMetrics metrics;
  private SessionLimiter limiter;
  private PeerMappingTable pmt;
  private Echo echo;
  private InterceptListener listener;
  private final AtomicInteger probes = new AtomicInteger();

  @BeforeEach
  void setUp() throws IOException {
    boss = transport.newGroup(1);
    workers = transport.newGroup(2);
    probeGroup = transport.newGroup(1);
    metrics = new RelayMetrics();
    limiter = new SessionLimiter(100);
    pmt = new PeerMappingTable(metrics.registry());
    echo = new Echo();
  }

  @AfterEach
  void tearDown() throws IOException {
    if (listener != null) {
      listener.close();
    }
    echo.close();
    for (EventLoopGroup g : List.of(boss, workers, probeGroup)) {
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** Starts the listener; every accepted client "meant to reach" the echo server. */
  private InetSocketAddress start(List<InPathRule> rules, InterceptSessions.Discoverer discoverer) throws Exception {
    InPathRouter router = new InPathRouter(new InPathRules(rules), pmt, n -> false, sp -> false);
    InterceptSessions.Links noTrunk = new InterceptSessions.Links() {
      @Override
      public Optional<PeerLink> named(String name) {
        return Optional.empty();
      }

      @Override
      public Optional<PeerLink> discovered(InetSocketAddress sp) {
        return Optional.empty();
      }
    };
    InterceptSessions sessions = new InterceptSessions(router, counting(discoverer), noTrunk, transport, metrics, limiter,
        false, Duration.ofSeconds(5), Duration.ZERO, Duration.ofMillis(200), d -> false, ch -> echo.address());
    listener = new InterceptListener(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), false, sessions::accept)
        .start(transport, boss, workers);
    return listener.localAddress();
  }

  private InterceptSessions.Discoverer counting(InterceptSessions.Discoverer d) {
    return (c, s, t) -> {
      probes.incrementAndGet();
      return d.probeAndLearn(c, s, t);
    };
  }

  /** A probe that found no SP: a leg connected on ANOTHER event loop (as the Prober's is). */
  private InterceptSessions.Discoverer noPeer(CompletableFuture<Void> release) {
    return (client, server, table) -> {
      CompletableFuture<ProbeOutcome> out = new CompletableFuture<>();
      Channel leg = new Bootstrap().group(probeGroup).channelFactory(transport.socketChannels())
          .option(ChannelOption.AUTO_READ, false).handler(new ChannelInboundHandlerAdapter())
          .connect(server).syncUninterruptibly().channel();
      release.thenRun(() -> {
        table.recordNoPeer(table.keyFor(server.getAddress(), server.getPort()));
        out.complete(new ProbeOutcome.NoPeer(leg));
      });
      return out;
    };
  }

  private double sessions(String route, String outcome) {
    Counter c = metrics.registry().find("wanrelay.sessions").tags("route", route, "outcome", outcome).counter();
    return c == null ? 0 : c.count();
  }

  private double connectFailures(String reason) {
    Counter c = metrics.registry().find("wanrelay.connect.failures").tags("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void probeLegBecomesThePassThroughLegAndHeldBytesArriveInOrder() throws Exception {
    CompletableFuture<Void> release = new CompletableFuture<>();
    InetSocketAddress addr = start(List.of(), noPeer(release));
    byte[] payload = random(300_000, 1);
    try (Socket s = connect(addr)) {
      // everything is sent (and the half-close) while the probe is still pending
      s.getOutputStream().write(payload);
      s.shutdownOutput();
      Thread.sleep(100);
      release.complete(null);
      assertThat(sha(s.getInputStream().readAllBytes())).isEqualTo(sha(payload));
    }
    awaitTrue(() -> sessions("passthrough", "completed") == 1);
    assertThat(probes).hasValue(1);
    assertThat(metrics.sessionBytes(net.wanrelay.core.config.RelayConfig.Protocol.TCP,
        RelayMetrics.Route.PASSTHROUGH, true).count()).isEqualTo(payload.length);

    // the PMT now says NO_PEER: the next session connects directly, without a probe
    byte[] second = random(50_000, 2);
    try (Socket s = connect(addr)) {
      s.getOutputStream().write(second);
      s.shutdownOutput();
      assertThat(sha(s.getInputStream().readAllBytes())).isEqualTo(sha(second));
    }
    awaitTrue(() -> sessions("passthrough", "completed") == 2);
    assertThat(probes).as("no second probe").hasValue(1);
    awaitTrue(() -> limiter.open() == 0);
    assertThat(echo.accepted).hasValue(2);
  }

  @Test
  void peerWithoutATrunkKeyPassesThrough() throws Exception {
    InetSocketAddress addr = start(List.of(), (c, s, t) -> CompletableFuture.completedFuture(
        new ProbeOutcome.Peer(List.of(new InetSocketAddress("10.9.2.2", 7800)), null)));
    byte[] payload = random(10_000, 3);
    try (Socket s = connect(addr)) {
      s.getOutputStream().write(payload);
      s.shutdownOutput();
      assertThat(sha(s.getInputStream().readAllBytes())).isEqualTo(sha(payload));
    }
    awaitTrue(() -> sessions("passthrough", "completed") == 1);
  }

  @Test
  void probeTimeoutResetsTheClientAndIsCounted() throws Exception {
    InetSocketAddress addr = start(List.of(), (c, s, t) -> CompletableFuture.completedFuture(new ProbeOutcome.Timeout()));
    RefusedSessions.assertReset(addr, new byte[100]);
    awaitTrue(() -> sessions("passthrough", "connect_failed") == 1);
    assertThat(connectFailures("probe_timeout")).isEqualTo(1);
    assertThat(echo.accepted).hasValue(0);
    awaitTrue(() -> limiter.open() == 0);
  }

  @Test
  void denyRuleResetsWithoutProbingOrConnecting() throws Exception {
    InetSocketAddress addr = start(List.of(InPathRule.of("127.0.0.0/8", null, InPathRule.Action.DENY)),
        (c, s, t) -> new CompletableFuture<>());
    RefusedSessions.assertReset(addr, new byte[0]);
    awaitTrue(() -> sessions("deny", "refused") == 1);
    assertThat(probes).hasValue(0);
    assertThat(echo.accepted).hasValue(0);
    awaitTrue(() -> limiter.open() == 0);
  }

  /**
   * A client that aborts while its probe runs is not read meanwhile (AUTO_READ off, nothing
   * buffered beyond the kernel), so its slot comes back when the probe ends (bounded by the probe
   * timeouts): the adopted leg then sees the dead client, the session ends and the leg is closed.
   */
  @Test
  void clientAbortingDuringTheProbeEndsTheSessionWhenTheProbeEnds() throws Exception {
    CompletableFuture<Void> release = new CompletableFuture<>();
    InetSocketAddress addr = start(List.of(), noPeer(release));
    try (Socket s = connect(addr)) {
      awaitTrue(() -> probes.get() == 1);
      s.setSoLinger(true, 0); // abort (RST)
    }
    Thread.sleep(100);
    release.complete(null);
    awaitTrue(() -> limiter.open() == 0);
    awaitTrue(() -> echo.closed.get() == 1); // the adopted leg was closed
    assertThat(metrics.activeSessions()).isZero();
    assertThat(metrics.sessionBytes(net.wanrelay.core.config.RelayConfig.Protocol.TCP,
        RelayMetrics.Route.PASSTHROUGH, true).count()).isZero();
  }

  // ---- helpers -------------------------------------------------------------------------------

  private static Socket connect(InetSocketAddress a) throws IOException {
    Socket s = new Socket();
    s.connect(a, 5000);
    s.setSoTimeout(20_000);
    return s;
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static String sha(byte[] b) throws Exception {
    return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private static void awaitTrue(java.util.function.BooleanSupplier ok) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!ok.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(ok.getAsBoolean()).isTrue();
  }

  /** Blocking echo server: echoes until EOF, then closes; counts accepted and closed connections. */
  private static final class Echo implements AutoCloseable {
    final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    final ExecutorService pool = Executors.newCachedThreadPool();
    final AtomicInteger accepted = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();

    Echo() throws IOException {
      pool.submit(() -> {
        while (!server.isClosed()) {
          Socket s = server.accept();
          accepted.incrementAndGet();
          pool.submit(() -> {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
              in.transferTo(out);
            } finally {
              closed.incrementAndGet();
            }
            return null;
          });
        }
        return null;
      });
    }

    InetSocketAddress address() {
      return (InetSocketAddress) server.getLocalSocketAddress();
    }

    @Override
    public void close() throws IOException {
      server.close();
      pool.shutdownNow();
    }
  }
}
