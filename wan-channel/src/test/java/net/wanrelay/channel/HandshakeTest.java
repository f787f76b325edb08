package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.wanrelay.channel.compress.CompressionSettings;
import net.wanrelay.channel.compress.Decompressor;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameDecoder;
import net.wanrelay.channel.frame.FrameEncoder;
import net.wanrelay.channel.frame.FrameType;
import net.wanrelay.channel.frame.Frames;
import net.wanrelay.channel.frame.Hello;
import org.junit.jupiter.api.Test;

class HandshakeTest {
  private static final byte[] KEY = "0123456789abcdef-secret".getBytes(StandardCharsets.UTF_8);
  private final TrunkSettings settings = TrunkSettings.builder().handshakeTimeout(Duration.ofSeconds(3)).build();

  private EmbeddedChannel side(boolean initiator, byte[] key, TrunkMetrics m) {
    return new EmbeddedChannel(new FrameDecoder(settings.maxFramePayload), new FrameEncoder(),
        new PskHandshakeHandler(initiator, initiator ? "cp" : "sp", key, settings, Hello.CAP_UDP, m,
            (ctx, local, remote) -> new TrunkConnection(settings, initiator, remote, m, m.peer(remote.nodeId()),
                null, CompressionSettings.OFF, new Decompressor())));
  }

  @Test
  void sameKeyAuthenticatesBothSidesAndInstallsTheMux() {
    TrunkMetrics mi = new TrunkMetrics(new SimpleMeterRegistry());
    TrunkMetrics ma = new TrunkMetrics(new SimpleMeterRegistry());
    EmbeddedChannel acceptor = side(false, KEY, ma);
    EmbeddedChannel initiator = side(true, KEY, mi);
    Wire.shuttle(initiator, acceptor);
    assertThat(initiator.pipeline().get(TrunkConnection.class)).isNotNull();
    assertThat(acceptor.pipeline().get(TrunkConnection.class)).isNotNull();
    assertThat(initiator.pipeline().get(PskHandshakeHandler.class)).isNull();
    assertThat(Wire.conn(acceptor).peerNodeId()).isEqualTo("cp");
    assertThat(Wire.conn(initiator).peerNodeId()).isEqualTo("sp");
    assertThat(mi.peer("sp").up()).isTrue();
    assertThat(ma.peer("cp").up()).isTrue();
    // PING/PONG went through the mux after the swap: RTT measured.
    assertThat(Wire.conn(initiator).srttNanos()).isPositive();
    initiator.finishAndReleaseAll();
    acceptor.finishAndReleaseAll();
    assertThat(mi.peer("sp").up()).isFalse();
  }

  @Test
  void wrongKeyIsRefusedOnBothSidesWithCountedReasons() {
    TrunkMetrics mi = new TrunkMetrics(new SimpleMeterRegistry());
    TrunkMetrics ma = new TrunkMetrics(new SimpleMeterRegistry());
    EmbeddedChannel acceptor = side(false, KEY, ma);
    EmbeddedChannel initiator = side(true, "another-key-of-16-bytes".getBytes(StandardCharsets.UTF_8), mi);
    Wire.shuttle(initiator, acceptor);
    assertThat(initiator.isOpen()).isFalse();
    assertThat(acceptor.isOpen()).isFalse();
    assertThat(mi.authFailures("bad_proof")).isEqualTo(1);
    assertThat(ma.authFailures("peer_rejected")).isEqualTo(1);
    assertThat(initiator.pipeline().get(TrunkConnection.class)).isNull();
    assertThat(acceptor.pipeline().get(TrunkConnection.class)).isNull();
    initiator.finishAndReleaseAll();
    acceptor.finishAndReleaseAll();
  }

  @Test
  void frameBeforeHelloClosesWithProtocolErrorAndCounter() {
    TrunkMetrics ma = new TrunkMetrics(new SimpleMeterRegistry());
    EmbeddedChannel acceptor = side(false, KEY, ma);
    Wire.in(acceptor, new Frame(FrameType.OPEN_ACK, 1), new Frame(FrameType.FIN, 1));
    List<Frame> out = Wire.out(acceptor);
    try {
      assertThat(Wire.types(out)).containsExactly(FrameType.GOAWAY);
      var p = out.get(0).content();
      assertThat(Frames.reasonCode(p.slice(p.readerIndex() + 4, p.readableBytes() - 4))).isEqualTo(ErrorCode.PROTOCOL_ERROR);
    } finally {
      Wire.drop(out);
    }
    assertThat(acceptor.isOpen()).isFalse();
    assertThat(ma.protocolErrors("frame_before_auth")).isEqualTo(1);
    acceptor.finishAndReleaseAll();
  }

  @Test
  void garbageBeforeHelloClosesWithProtocolError() {
    TrunkMetrics ma = new TrunkMetrics(new SimpleMeterRegistry());
    EmbeddedChannel acceptor = side(false, KEY, ma);
    acceptor.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII));
    assertThat(acceptor.isOpen()).isFalse();
    assertThat(ma.protocolErrors("unknown_type")).isEqualTo(1);
    acceptor.finishAndReleaseAll();
  }

  @Test
  void reflectedProofFails() {
    TrunkMetrics ma = new TrunkMetrics(new SimpleMeterRegistry());
    EmbeddedChannel acceptor = side(false, KEY, ma);
    Hello attacker = Wire.hello(Hello.ROLE_INITIATOR, 65536, 10, "mallory");
    Wire.in(acceptor, new Frame(FrameType.HELLO, 0, 0, attacker.encode(ByteBufAllocator.DEFAULT)));
    List<Frame> out = Wire.out(acceptor);
    assertThat(Wire.types(out)).containsExactly(FrameType.HELLO, FrameType.AUTH);
    // Send the acceptor's own proof back as ours.
    Frame proof = out.get(1).retain();
    Wire.drop(out);
    Wire.in(acceptor, proof);
    assertThat(acceptor.isOpen()).isFalse();
    assertThat(ma.authFailures("bad_proof")).isEqualTo(1);
    acceptor.finishAndReleaseAll();
  }

  @Test
  void silentPeerTimesOut() {
    TrunkMetrics ma = new TrunkMetrics(new SimpleMeterRegistry());
    EmbeddedChannel acceptor = side(false, KEY, ma);
    acceptor.advanceTimeBy(4, TimeUnit.SECONDS);
    acceptor.runScheduledPendingTasks();
    acceptor.runPendingTasks();
    assertThat(acceptor.isOpen()).isFalse();
    assertThat(ma.authFailures("timeout")).isEqualTo(1);
    acceptor.finishAndReleaseAll();
  }

  @Test
  void versionMismatchIsRefused() {
    TrunkMetrics ma = new TrunkMetrics(new SimpleMeterRegistry());
    EmbeddedChannel acceptor = side(false, KEY, ma);
    Hello future = new Hello(2, 3, Hello.ROLE_INITIATOR, new byte[32], 0, 65536, 10, "future");
    Wire.in(acceptor, new Frame(FrameType.HELLO, 0, 0, future.encode(ByteBufAllocator.DEFAULT)));
    Wire.drop(Wire.out(acceptor));
    assertThat(acceptor.isOpen()).isFalse();
    assertThat(ma.authFailures("version")).isEqualTo(1);
    acceptor.finishAndReleaseAll();
  }
}
