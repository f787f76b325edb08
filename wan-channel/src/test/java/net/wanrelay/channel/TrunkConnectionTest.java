package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameType;
import net.wanrelay.channel.frame.Frames;
import net.wanrelay.channel.frame.OpenRequest;
import net.wanrelay.channel.frame.StreamProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TrunkConnectionTest {
  private static final ByteBufAllocator A = ByteBufAllocator.DEFAULT;
  private final TrunkSettings settings = TrunkSettings.builder().initialWindow(64 * 1024).maxDataFrame(16 * 1024)
      .maxStreams(2).build();
  private final TrunkMetrics metrics = new TrunkMetrics(new SimpleMeterRegistry());
  private final List<TrunkStream> accepted = new ArrayList<>();
  private final Recorder recorder = new Recorder();
  private EmbeddedChannel ch;

  /** Records stream events; releases data unless told to keep it. */
  static final class Recorder implements StreamListener {
    final List<String> events = new ArrayList<>();
    final List<ByteBuf> kept = new ArrayList<>();
    long bytes;

    @Override
    public void onData(TrunkStream s, ByteBuf data) {
      bytes += data.readableBytes();
      kept.add(data);
      events.add("data");
    }

    @Override
    public void onDatagram(TrunkStream s, ByteBuf d) {
      events.add("datagram:" + d.readableBytes());
      d.release();
    }

    @Override
    public void onFin(TrunkStream s) { events.add("fin"); }

    @Override
    public void onReset(TrunkStream s, ErrorCode code, String message) { events.add("rst:" + code.label()); }

    @Override
    public void onOpenAck(TrunkStream s) { events.add("ack"); }

    @Override
    public void onOpenFail(TrunkStream s, ErrorCode code, String message) { events.add("fail:" + code.label()); }

    @Override
    public void onClosed(TrunkStream s) { events.add("closed"); }

    void releaseKept() {
      kept.forEach(ByteBuf::release);
      kept.clear();
    }
  }

  @AfterEach
  void tearDown() {
    recorder.releaseKept();
    if (ch != null) {
      ch.finishAndReleaseAll();
    }
  }

  private static Frame open(int id, StreamProtocol p) {
    return new Frame(FrameType.OPEN, 0, id, new OpenRequest(p, new InetSocketAddress("127.0.0.1", 9), null, 0).encode(A));
  }

  private static Frame data(int id, int n) {
    return new Frame(FrameType.DATA, 0, id, Unpooled.wrappedBuffer(new byte[n]));
  }

  private void acceptorSide() {
    ch = Wire.connection(false, settings, metrics, s -> {
      accepted.add(s);
      s.accept(recorder);
    });
  }

  @Test
  void zeroRttDataIsHeldUntilAcceptAndCreditReturnsOnlyWhenConsumed() {
    List<TrunkStream> pendingOpen = new ArrayList<>();
    ch = Wire.connection(false, settings, metrics, pendingOpen::add);
    Wire.in(ch, open(1, StreamProtocol.TCP), data(1, 10000), data(1, 6384), new Frame(FrameType.FIN, 1));
    TrunkStream s = pendingOpen.get(0);
    assertThat(s.bufferedBytes()).isEqualTo(16384);
    assertThat(recorder.events).isEmpty();
    s.accept(recorder);
    assertThat(recorder.events).containsExactly("data", "data", "fin");
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).containsExactly(FrameType.OPEN_ACK);
    Wire.drop(out);
    // FIN received: no more credit needed, but the buffered count must drop.
    s.consumed(16384);
    assertThat(s.bufferedBytes()).isZero();
    assertThat(Wire.conn(ch).bufferedReceiveBytes()).isZero();
  }

  @Test
  void consumedBytesReturnCreditAsWindowFrames() {
    acceptorSide();
    Wire.in(ch, open(1, StreamProtocol.TCP), data(1, 16384), data(1, 16384));
    Wire.drop(Wire.out(ch));
    TrunkStream s = accepted.get(0);
    assertThat(s.bufferedBytes()).isEqualTo(32768);
    assertThat(metrics.peer("peer").bufferedBytes()).isEqualTo(32768);
    s.consumed(16384);
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).containsExactly(FrameType.WINDOW);
    assertThat(Frames.windowIncrement(out.get(0).content())).isEqualTo(16384);
    Wire.drop(out);
    assertThat(s.bufferedBytes()).isEqualTo(16384);
  }

  @Test
  void dataBeyondTheWindowClosesTheConnection() {
    acceptorSide();
    Wire.in(ch, open(1, StreamProtocol.TCP));
    for (int i = 0; i < 4; i++) {
      Wire.in(ch, data(1, 16384));
    }
    assertThat(ch.isOpen()).isTrue();
    Wire.in(ch, data(1, 1));
    assertThat(ch.isOpen()).isFalse();
    assertThat(metrics.protocolErrors("window_overflow")).isEqualTo(1);
    assertThat(recorder.events).contains("rst:connection_lost");
    assertThat(metrics.peer("peer").bufferedBytes()).isZero();
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).contains(FrameType.GOAWAY);
    Wire.drop(out);
  }

  @Test
  void streamIdReuseIsAProtocolError() {
    acceptorSide();
    Wire.in(ch, open(3, StreamProtocol.TCP));
    Wire.in(ch, open(1, StreamProtocol.TCP));
    assertThat(ch.isOpen()).isFalse();
    assertThat(metrics.protocolErrors("stream_id_reuse")).isEqualTo(1);
    Wire.drop(Wire.out(ch));
  }

  @Test
  void wrongParityIsAProtocolError() {
    acceptorSide();
    Wire.in(ch, open(2, StreamProtocol.TCP));
    assertThat(ch.isOpen()).isFalse();
    assertThat(metrics.protocolErrors("stream_id_parity")).isEqualTo(1);
    Wire.drop(Wire.out(ch));
  }

  @Test
  void unknownStreamIsAProtocolErrorButLateFramesOfClosedStreamsAreIgnored() {
    acceptorSide();
    Wire.in(ch, open(1, StreamProtocol.TCP), Frames.rst(A, 1, ErrorCode.CANCEL, "bye"), data(1, 10), Frames.window(A, 1, 5));
    assertThat(ch.isOpen()).isTrue();
    assertThat(recorder.events).containsExactly("rst:cancel");
    Wire.in(ch, data(7, 10));
    assertThat(ch.isOpen()).isFalse();
    assertThat(metrics.protocolErrors("unknown_stream")).isEqualTo(1);
    Wire.drop(Wire.out(ch));
  }

  @Test
  void windowOverflowOnCreditIsAProtocolError() {
    acceptorSide();
    Wire.in(ch, open(1, StreamProtocol.TCP), Frames.window(A, 1, Integer.MAX_VALUE));
    assertThat(ch.isOpen()).isFalse();
    assertThat(metrics.protocolErrors("window_overflow")).isEqualTo(1);
    Wire.drop(Wire.out(ch));
  }

  @Test
  void streamsBeyondTheCapGetBusyAndWithoutAcceptorDenied() {
    acceptorSide();
    Wire.in(ch, open(1, StreamProtocol.TCP), open(3, StreamProtocol.TCP), open(5, StreamProtocol.TCP));
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).containsExactly(FrameType.OPEN_ACK, FrameType.OPEN_ACK, FrameType.OPEN_FAIL);
    assertThat(Frames.reasonCode(out.get(2).content())).isEqualTo(ErrorCode.BUSY);
    assertThat(out.get(2).streamId()).isEqualTo(5);
    Wire.drop(out);
    ch.finishAndReleaseAll();

    ch = Wire.connection(false, settings, metrics, null);
    Wire.in(ch, open(1, StreamProtocol.TCP));
    out = Wire.out(ch);
    assertThat(Wire.types(out)).containsExactly(FrameType.OPEN_FAIL);
    assertThat(Frames.reasonCode(out.get(0).content())).isEqualTo(ErrorCode.DENIED);
    Wire.drop(out);
    assertThat(metrics.peer("peer").openDenied()).isEqualTo(1);
  }

  @Test
  void senderRespectsCreditAndFinFollowsPendingData() {
    ch = Wire.connection(true, settings, metrics, null);
    TrunkConnection c = Wire.conn(ch);
    TrunkStream s = c.open(new OpenRequest(StreamProtocol.TCP, new InetSocketAddress("127.0.0.1", 9), null, 0), recorder);
    assertThat(s.id()).isEqualTo(1);
    s.write(Unpooled.wrappedBuffer(new byte[100_000]));
    s.shutdownOutput();
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).containsExactly(FrameType.OPEN, FrameType.DATA, FrameType.DATA, FrameType.DATA, FrameType.DATA);
    assertThat(out.stream().filter(f -> f.type() == FrameType.DATA).mapToInt(f -> f.content().readableBytes()).sum())
        .isEqualTo(64 * 1024);
    Wire.drop(out);
    assertThat(s.pendingBytes()).isEqualTo(100_000 - 65536);
    assertThat(s.isWritable()).isFalse();
    assertThat(metrics.peer("peer").windowStalls()).isEqualTo(1);
    Wire.in(ch, new Frame(FrameType.OPEN_ACK, 1), Frames.window(A, 1, 65536));
    out = Wire.out(ch);
    assertThat(Wire.types(out)).endsWith(FrameType.DATA, FrameType.FIN);
    assertThat(out.stream().filter(f -> f.type() == FrameType.DATA).mapToInt(f -> f.content().readableBytes()).sum())
        .isEqualTo(100_000 - 65536);
    Wire.drop(out);
    assertThat(s.pendingBytes()).isZero();
    Wire.in(ch, new Frame(FrameType.FIN, 1));
    assertThat(recorder.events).containsExactly("ack", "fin", "closed");
    assertThat(c.activeStreams()).isZero();
  }

  @Test
  void dataAfterFinAndDuplicateFinAreProtocolErrors() {
    acceptorSide();
    Wire.in(ch, open(1, StreamProtocol.TCP), new Frame(FrameType.FIN, 1), data(1, 5));
    assertThat(ch.isOpen()).isFalse();
    assertThat(metrics.protocolErrors("data_after_fin")).isEqualTo(1);
    Wire.drop(Wire.out(ch));
  }

  @Test
  void datagramsFlowOnUdpStreamsAndIdleFlowsExpire() {
    TrunkSettings s = settings.toBuilder().udpIdleTimeout(java.time.Duration.ofMillis(400)).build();
    ch = Wire.connection(false, s, metrics, st -> {
      accepted.add(st);
      st.accept(recorder);
    });
    Wire.in(ch, open(1, StreamProtocol.UDP), new Frame(FrameType.DATAGRAM, 0, 1, Unpooled.wrappedBuffer(new byte[33])));
    assertThat(recorder.events).containsExactly("datagram:33");
    accepted.get(0).sendDatagram(Unpooled.wrappedBuffer(new byte[12]));
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).containsExactly(FrameType.OPEN_ACK, FrameType.DATAGRAM);
    Wire.drop(out);
    ch.advanceTimeBy(600, java.util.concurrent.TimeUnit.MILLISECONDS);
    busyWait(450);
    ch.runScheduledPendingTasks();
    out = Wire.out(ch);
    assertThat(Wire.types(out)).contains(FrameType.RST);
    Wire.drop(out);
    assertThat(recorder.events).endsWith("rst:idle");
    assertThat(Wire.conn(ch).activeStreams()).isZero();
    // DATA on a UDP flow is a protocol error.
    Wire.in(ch, open(3, StreamProtocol.UDP), data(3, 4));
    assertThat(metrics.protocolErrors("bad_frame_for_stream")).isEqualTo(1);
    Wire.drop(Wire.out(ch));
  }

  /** The idle check compares System.nanoTime(), which EmbeddedChannel's clock does not move. */
  private static void busyWait(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void silenceLongerThanTheHeartbeatTimeoutClosesTheSocket() {
    TrunkSettings s = settings.toBuilder().heartbeatInterval(java.time.Duration.ofMillis(50))
        .heartbeatTimeout(java.time.Duration.ofMillis(200)).build();
    ch = Wire.connection(true, s, metrics, null);
    TrunkStream st = Wire.conn(ch).open(new OpenRequest(StreamProtocol.TCP, new InetSocketAddress("127.0.0.1", 9), null, 0),
        recorder);
    assertThat(st).isNotNull();
    busyWait(300);
    ch.advanceTimeBy(100, java.util.concurrent.TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    ch.runPendingTasks();
    assertThat(ch.isOpen()).isFalse();
    assertThat(recorder.events).containsExactly("rst:connection_lost");
    Wire.drop(Wire.out(ch));
  }

  @Test
  void pingIsAnsweredAndGoAwayDrainsTheConnection() {
    acceptorSide();
    Wire.in(ch, Frames.ping(A, FrameType.PING, 77, 0));
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).containsExactly(FrameType.PONG);
    assertThat(out.get(0).content().getLong(0)).isEqualTo(77);
    Wire.drop(out);
    Wire.in(ch, open(1, StreamProtocol.TCP));
    Wire.drop(Wire.out(ch));
    Wire.conn(ch).goAway(ErrorCode.GOING_AWAY, "test");
    Wire.in(ch, open(3, StreamProtocol.TCP));
    out = Wire.out(ch);
    assertThat(Wire.types(out)).containsExactly(FrameType.GOAWAY, FrameType.OPEN_FAIL);
    Wire.drop(out);
    assertThat(ch.isOpen()).isTrue();
    Wire.in(ch, Frames.rst(A, 1, ErrorCode.CANCEL, ""));
    ch.runPendingTasks();
    assertThat(ch.isOpen()).as("closed once the last stream ended").isFalse();
  }
}
