package net.wanrelay.it.loopbench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/** The short-session load generator and reply server against each other and against broken servers. */
class ShortSessionLoopbackTest {
  private static final InetSocketAddress ANY_LOOPBACK_PORT =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

  private static SessionLoad.Settings settings(InetSocketAddress target, long sessions) {
    return new SessionLoad.Settings(target, 4, sessions, Duration.ofSeconds(60), Duration.ZERO,
        Duration.ofSeconds(5));
  }

  @Test
  void everySessionIsServedAndCheckedWhenTheServerIsHealthy() throws Exception {
    try (ReplyServer server = ReplyServer.start(ANY_LOOPBACK_PORT, 4)) {
      SessionLoad.Result r = SessionLoad.run(settings(server.address(), 400));

      assertThat(r.ok()).isEqualTo(400);
      assertThat(r.errors()).isZero();
      assertThat(r.errorsByKind()).isEmpty();
      assertThat(r.p50Micros()).isPositive().isLessThanOrEqualTo(r.p99Micros());
      assertThat(r.p99Micros()).isLessThanOrEqualTo(r.maxMicros());
      assertThat(r.line()).startsWith("sessions_ok=400 errors=0 ");
      // The server counts after its write; wait (bounded) for the last of them.
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (server.served() < 400 && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      assertThat(server.served()).isEqualTo(400);
      assertThat(server.failed()).isZero();
    }
  }

  @Test
  void aRefusedPortCountsEverySessionAsAConnectError() throws Exception {
    InetSocketAddress closed;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = (InetSocketAddress) s.getLocalSocketAddress();
    }
    SessionLoad.Result r = SessionLoad.run(settings(closed, 20));

    assertThat(r.ok()).isZero();
    assertThat(r.errorsByKind()).isEqualTo(Map.of(SessionLoad.CONNECT, 20L));
    assertThat(r.rate()).isZero();
  }

  @Test
  void aWrongReplyIsCountedAsBadReply() throws Exception {
    try (FakeServer fake = new FakeServer((request, out) -> {
      byte[] reply = new byte[ShortSession.REPLY_BYTES];
      ShortSession.computeReply(request, reply);
      reply[517] ^= 1; // one flipped bit
      write(out, reply);
    })) {
      SessionLoad.Result r = SessionLoad.run(settings(fake.address(), 10));

      assertThat(r.ok()).isZero();
      assertThat(r.errorsByKind()).isEqualTo(Map.of(SessionLoad.BAD_REPLY, 10L));
    }
  }

  @Test
  void aServerClosingBeforeTheFullReplyIsCountedAsShortReply() throws Exception {
    try (FakeServer fake = new FakeServer((request, out) -> write(out, new byte[100]))) {
      SessionLoad.Result r = SessionLoad.run(settings(fake.address(), 10));

      assertThat(r.ok()).isZero();
      assertThat(r.errorsByKind()).isEqualTo(Map.of(SessionLoad.SHORT_REPLY, 10L));
    }
  }

  @Test
  void theReplyDependsOnEveryRequestByte() {
    byte[] request = new byte[ShortSession.REQUEST_BYTES];
    byte[] reply = new byte[ShortSession.REPLY_BYTES];
    byte[] scratch = new byte[ShortSession.REPLY_BYTES];
    ShortSession.fillRequest(request, 7);
    ShortSession.computeReply(request, reply);
    assertThat(ShortSession.replyMatches(request, reply, scratch)).isTrue();
    for (int i = 0; i < request.length; i++) {
      request[i] ^= 0x10;
      assertThat(ShortSession.replyMatches(request, reply, scratch)).as("request byte %d", i).isFalse();
      request[i] ^= 0x10;
    }
    byte[] other = new byte[ShortSession.REQUEST_BYTES];
    ShortSession.fillRequest(other, 8);
    assertThat(other).isNotEqualTo(request);
  }

  @Test
  void optionsAreValidatedAndOnlyLoopbackTargetsAccepted() {
    SessionLoad.Settings s = SessionLoad.parse(new String[] {
        "--target", "127.0.0.1:5001", "--threads", "3", "--sessions", "50", "--seconds", "2.5",
        "--warmup-seconds", "0"});
    assertThat(s.target().getPort()).isEqualTo(5001);
    assertThat(s.threads()).isEqualTo(3);
    assertThat(s.maxSessions()).isEqualTo(50);
    assertThat(s.duration()).isEqualTo(Duration.ofMillis(2500));
    assertThat(s.warmup()).isEqualTo(Duration.ZERO);

    assertThatThrownBy(() -> SessionLoad.parse(new String[] {"--target", "192.0.2.1:80"}))
        .hasMessageContaining("not a loopback address");
    assertThatThrownBy(() -> SessionLoad.parse(new String[] {"--threads", "2"}))
        .hasMessageContaining("--target is required");
    assertThatThrownBy(() -> SessionLoad.parse(new String[] {"--target", "127.0.0.1:1", "--seconds", "x"}))
        .hasMessageContaining("not a number");
    assertThatThrownBy(() -> SessionLoad.parse(new String[] {"--target", "127.0.0.1:70000"}))
        .hasMessageContaining("bad port");
    assertThatThrownBy(() -> SessionLoad.parse(new String[] {"--target", "127.0.0.1:1", "--bogus", "1"}))
        .hasMessageContaining("unknown option --bogus");
  }

  private static void write(java.io.OutputStream out, byte[] bytes) {
    try {
      out.write(bytes);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** A one-thread server that reads the full request and answers whatever the test says. */
  private static final class FakeServer implements AutoCloseable {
    private final ServerSocket server;
    private final Thread thread;

    FakeServer(BiConsumer<byte[], java.io.OutputStream> answer) throws IOException {
      server = new ServerSocket(0, 64, InetAddress.getLoopbackAddress());
      thread = new Thread(() -> {
        byte[] request = new byte[ShortSession.REQUEST_BYTES];
        while (!server.isClosed()) {
          try (Socket s = server.accept()) {
            InputStream in = s.getInputStream();
            if (ShortSession.readFully(in, request) == request.length) {
              answer.accept(request, s.getOutputStream());
            }
          } catch (IOException | RuntimeException e) {
            // next connection
          }
        }
      }, "fake-reply-server");
      thread.setDaemon(true);
      thread.start();
    }

    InetSocketAddress address() {
      return (InetSocketAddress) server.getLocalSocketAddress();
    }

    @Override
    public void close() throws Exception {
      server.close();
      thread.join(2_000);
    }
  }
}
