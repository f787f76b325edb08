package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.channel.compress.CompressionSettings;
import net.wanrelay.channel.compress.Decompressor;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameDecoder;
import net.wanrelay.channel.frame.FrameEncoder;
import net.wanrelay.channel.frame.FrameType;
import net.wanrelay.channel.frame.Frames;
import net.wanrelay.channel.frame.Hello;
import net.wanrelay.channel.frame.OpenRequest;
import net.wanrelay.channel.frame.Resume;
import net.wanrelay.channel.frame.StreamProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The RESUME exchange on EmbeddedChannels: a CP-side (initiator) connection with a stream is lost,
 * a replacement with the same key takes the stream over, and the peer's RESUME decides what is
 * resent. Hostile or broken RESUMEs close the connection with a counted reason.
 */
class ResumeHandshakeTest {
  private static final ByteBufAllocator A = ByteBufAllocator.DEFAULT;
  private static final String KEY = ResumeRegistry.initiatorKey("peer", 42);
  private static final long PEER_INCARNATION = 7777;
  private final TrunkSettings settings = TrunkSettings.builder().initialWindow(64 * 1024).maxDataFrame(16 * 1024).build();
  private final TrunkMetrics metrics = new TrunkMetrics(new SimpleMeterRegistry());
  private final ResumeRegistry registry = new ResumeRegistry(Duration.ofSeconds(30));
  private final List<EmbeddedChannel> channels = new ArrayList<>();
  private final Listener listener = new Listener();

  /** A listener that follows its stream to a new loop, like TcpStreamBridge. */
  static final class Listener implements StreamListener {
    final List<String> events = new ArrayList<>();

    @Override
    public void onData(TrunkStream s, ByteBuf data) {
      events.add("data:" + data.readableBytes());
      data.release();
    }

    @Override
    public void onFin(TrunkStream s) { events.add("fin"); }

    @Override
    public void onReset(TrunkStream s, ErrorCode code, String message) { events.add("rst:" + code.label()); }

    @Override
    public void onOpenAck(TrunkStream s) { events.add("ack"); }

    @Override
    public boolean resumable() { return true; }

    @Override
    public void onMoved(TrunkStream s, io.netty.channel.EventLoop loop) { events.add("moved"); }
  }

  @AfterEach
  void tearDown() {
    registry.close();
    for (EmbeddedChannel ch : channels) {
      ch.runPendingTasks();
      ch.finishAndReleaseAll();
    }
  }

  private static Hello remote(long incarnation) {
    return new Hello(1, 1, Hello.ROLE_ACCEPTOR, new byte[32], Hello.CAP_RESUME, 64 * 1024, 100, "peer", incarnation, 0);
  }

  private EmbeddedChannel connection(Hello remote) {
    TrunkConnection c = new TrunkConnection(settings, true, remote, metrics, metrics.peer("peer"), null,
        CompressionSettings.OFF, new Decompressor(), null, registry, KEY);
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(settings.maxFramePayload), new FrameEncoder(), c);
    channels.add(ch);
    ch.runPendingTasks();
    return ch;
  }

  private static Frame resume(int nextId, Resume.Entry... entries) {
    return new Frame(FrameType.RESUME, 0, 0, new Resume(nextId, List.of(entries)).encode(A));
  }

  private static ByteBuf bytes(int from, int n) {
    ByteBuf b = A.buffer(n);
    for (int i = 0; i < n; i++) {
      b.writeByte((from + i) * 31 & 0xFF);
    }
    return b;
  }

  private static Resume firstResume(List<Frame> out) {
    assertThat(out).isNotEmpty();
    assertThat(out.get(0).type()).as("RESUME is the first frame").isEqualTo(FrameType.RESUME);
    return Resume.decode(out.get(0).content());
  }

  /** Connection 1 with stream 1 that sent {@code sent} bytes, then lost; returns the suspended stream. */
  private TrunkStream lostConnectionWithStream(int sent) {
    EmbeddedChannel ch = connection(remote(PEER_INCARNATION));
    Wire.drop(Wire.out(ch));
    Wire.in(ch, resume(2));
    TrunkStream s = Wire.conn(ch).open(new OpenRequest(StreamProtocol.TCP, new InetSocketAddress("127.0.0.1", 9), null, 0),
        listener);
    s.write(bytes(0, sent));
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).contains(FrameType.OPEN, FrameType.DATA);
    Wire.drop(out);
    ch.close();
    ch.runPendingTasks();
    assertThat(s.isSuspended()).isTrue();
    assertThat(metrics.peer("peer").streamsSuspended()).isOne();
    return s;
  }

  @Test
  void aFreshConnectionSendsAnEmptyResumeBeforeAnythingElse() {
    EmbeddedChannel ch = connection(remote(PEER_INCARNATION));
    List<Frame> out = Wire.out(ch);
    Resume r = firstResume(out);
    assertThat(r.nextLocalId()).isOne();
    assertThat(r.entries()).isEmpty();
    assertThat(out.get(1).type()).isEqualTo(FrameType.PING);
    Wire.drop(out);
  }

  @Test
  void aLostStreamResumesFromThePeersOffsetWithNothingLostOrDuplicated() {
    TrunkStream s = lostConnectionWithStream(3000);
    // Data the client sends while suspended waits (and the source is told to stop reading).
    assertThat(s.isWritable()).isFalse();
    s.write(bytes(3000, 500));
    assertThat(s.pendingBytes()).isEqualTo(500);

    EmbeddedChannel ch2 = connection(remote(PEER_INCARNATION));
    for (EmbeddedChannel c : channels) {
      c.runPendingTasks(); // the move runs on the old loop, the adoption on the new one
    }
    List<Frame> out = Wire.out(ch2);
    Resume mine = firstResume(out);
    Wire.drop(out);
    assertThat(mine.nextLocalId()).as("new streams continue after the resumed ids").isEqualTo(3);
    assertThat(mine.entries()).containsExactly(new Resume.Entry(1, 0, 0, 64 * 1024));
    assertThat(listener.events).contains("moved");

    // The peer got 1000 of the 3000 bytes and the OPEN (it accepted the stream).
    Wire.in(ch2, resume(2, new Resume.Entry(1, Resume.FLAG_OPEN, 1000, 1000 + 64 * 1024)));
    out = Wire.out(ch2);
    CompositeByteBuf resent = Unpooled.compositeBuffer();
    for (Frame f : out) {
      if (f.type() == FrameType.DATA) {
        resent.addComponent(true, f.content().retain());
      }
    }
    Wire.drop(out);
    assertThat(resent.readableBytes()).isEqualTo(2500);
    ByteBuf expected = bytes(1000, 2500);
    assertThat(ByteBufEquals.equal(resent, expected)).as("bytes 1000..3500 in order").isTrue();
    expected.release();
    resent.release();
    assertThat(listener.events).contains("ack");
    assertThat(s.isSuspended()).isFalse();
    assertThat(metrics.peer("peer").streamsResumed()).isOne();
    assertThat(metrics.peer("peer").replayedBytes()).isEqualTo(2000);
    assertThat(metrics.peer("peer").streamsSuspended()).isZero();

    // Acknowledgements release the replay buffer.
    assertThat(s.replayBytes()).isEqualTo(2500);
    Wire.in(ch2, Frames.window(A, 1, 3000, 3000));
    assertThat(s.replayBytes()).isEqualTo(500);
    s.reset(ErrorCode.CANCEL, "done");
    assertThat(s.replayBytes()).isZero();
  }

  @Test
  void anOffsetBeyondWhatWasSentClosesTheConnection() {
    TrunkStream s = lostConnectionWithStream(3000);
    EmbeddedChannel ch2 = connection(remote(PEER_INCARNATION));
    channels.forEach(EmbeddedChannel::runPendingTasks);
    Wire.drop(Wire.out(ch2));
    Wire.in(ch2, resume(2, new Resume.Entry(1, Resume.FLAG_OPEN, 3001, 70_000)));
    List<Frame> out = Wire.out(ch2);
    assertThat(Wire.types(out)).containsExactly(FrameType.GOAWAY);
    assertThat(Frames.reasonText(out.get(0).content().slice(4, out.get(0).content().readableBytes() - 4)))
        .isEqualTo("resume_offset");
    Wire.drop(out);
    ch2.runPendingTasks();
    assertThat(ch2.isOpen()).isFalse();
    assertThat(metrics.protocolErrors("resume_offset")).isOne();
    assertThat(s.isClosed()).isTrue();
    assertThat(listener.events).contains("rst:connection_lost");
    assertThat(metrics.peer("peer").streamsSuspended()).isZero();
    assertThat(metrics.peer("peer").streamsActive()).isZero();
  }

  @Test
  void aStreamTheReplacementPeerDoesNotListIsReset() {
    TrunkStream s = lostConnectionWithStream(100);
    EmbeddedChannel ch2 = connection(remote(PEER_INCARNATION));
    channels.forEach(EmbeddedChannel::runPendingTasks);
    Wire.drop(Wire.out(ch2));
    Wire.in(ch2, resume(2));
    assertThat(s.isClosed()).isTrue();
    assertThat(listener.events).contains("rst:connection_lost");
    assertThat(metrics.peer("peer").resumeResets("unknown_to_peer")).isOne();
    assertThat(ch2.isOpen()).isTrue();
    assertThat(metrics.peer("peer").streamsActive()).isZero();
  }

  @Test
  void aRestartedPeerGetsNothingResumed() {
    TrunkStream s = lostConnectionWithStream(100);
    EmbeddedChannel ch2 = connection(remote(PEER_INCARNATION + 1));
    channels.forEach(EmbeddedChannel::runPendingTasks);
    List<Frame> out = Wire.out(ch2);
    assertThat(firstResume(out).entries()).isEmpty();
    Wire.drop(out);
    assertThat(s.isClosed()).isTrue();
    assertThat(listener.events).contains("rst:connection_lost");
    assertThat(metrics.peer("peer").resumeResets("peer_restarted")).isOne();
    assertThat(metrics.peer("peer").streamsSuspended()).isZero();
  }

  @Test
  void theAcceptorClosesAConnectionItThoughtAliveWhenItsReplacementArrivesAndResumesItsStreams() {
    String key = ResumeRegistry.acceptorKey("peer", PEER_INCARNATION, 42);
    Hello initiatorHello = new Hello(1, 1, Hello.ROLE_INITIATOR, new byte[32], Hello.CAP_RESUME, 64 * 1024, 100, "peer",
        PEER_INCARNATION, 42);
    StreamAcceptor accept = s -> s.accept(listener);
    TrunkConnection c1 = new TrunkConnection(settings, false, initiatorHello, metrics, metrics.peer("peer"), accept,
        CompressionSettings.OFF, new Decompressor(), null, registry, key);
    EmbeddedChannel ch1 = new EmbeddedChannel(new FrameDecoder(settings.maxFramePayload), new FrameEncoder(), c1);
    channels.add(ch1);
    ch1.runPendingTasks();
    Wire.drop(Wire.out(ch1));
    Wire.in(ch1, resume(1), new Frame(FrameType.OPEN, 0, 1,
        new OpenRequest(StreamProtocol.TCP, new InetSocketAddress("127.0.0.1", 9), null, 0).encode(A)),
        new Frame(FrameType.DATA, 0, 1, bytes(0, 1000)));
    Wire.drop(Wire.out(ch1));
    assertThat(listener.events).contains("data:1000");

    TrunkConnection c2 = new TrunkConnection(settings, false, initiatorHello, metrics, metrics.peer("peer"), accept,
        CompressionSettings.OFF, new Decompressor(), null, registry, key);
    EmbeddedChannel ch2 = new EmbeddedChannel(new FrameDecoder(settings.maxFramePayload), new FrameEncoder(), c2);
    channels.add(ch2);
    for (int i = 0; i < 3; i++) {
      channels.forEach(EmbeddedChannel::runPendingTasks);
    }
    assertThat(ch1.isOpen()).as("the superseded connection was closed").isFalse();
    List<Frame> out = Wire.out(ch2);
    Resume mine = firstResume(out);
    Wire.drop(out);
    assertThat(mine.nextLocalId()).isEqualTo(2);
    assertThat(mine.entries()).containsExactly(new Resume.Entry(1, Resume.FLAG_OPEN, 1000, 64 * 1024));
    Wire.in(ch2, resume(3, new Resume.Entry(1, Resume.FLAG_OPEN, 0, 64 * 1024)));
    assertThat(metrics.peer("peer").streamsResumed()).isOne();
    // The stream carries on: more data from the peer arrives on the new connection.
    Wire.in(ch2, new Frame(FrameType.DATA, 0, 1, bytes(1000, 10)));
    assertThat(listener.events).contains("data:10");
    assertThat(ch2.isOpen()).isTrue();
  }

  @Test
  void aResumeForAStreamNeverOpenedClosesTheConnection() {
    EmbeddedChannel ch = connection(remote(PEER_INCARNATION));
    Wire.drop(Wire.out(ch));
    Wire.in(ch, resume(2, new Resume.Entry(7, 0, 0, 100)));
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).containsExactly(FrameType.GOAWAY);
    Wire.drop(out);
    assertThat(metrics.protocolErrors("unknown_stream")).isOne();
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void streamFramesBeforeThePeersResumeCloseTheConnection() {
    EmbeddedChannel ch = connection(remote(PEER_INCARNATION));
    Wire.drop(Wire.out(ch));
    Wire.in(ch, Frames.window(A, 1, 10));
    Wire.drop(Wire.out(ch));
    assertThat(metrics.protocolErrors("resume_expected")).isOne();
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void malformedOrRepeatedResumesCloseTheConnection() {
    EmbeddedChannel bad = connection(remote(PEER_INCARNATION));
    Wire.drop(Wire.out(bad));
    Wire.in(bad, new Frame(FrameType.RESUME, 0, 0, A.buffer(12).writeInt(2).writeInt(1).writeInt(5)));
    Wire.drop(Wire.out(bad));
    assertThat(metrics.protocolErrors("bad_resume")).isOne();
    assertThat(bad.isOpen()).isFalse();

    EmbeddedChannel twice = connection(remote(PEER_INCARNATION));
    Wire.drop(Wire.out(twice));
    Wire.in(twice, resume(2), resume(2));
    Wire.drop(Wire.out(twice));
    assertThat(metrics.protocolErrors("unexpected_resume")).isOne();
    assertThat(twice.isOpen()).isFalse();
  }

  @Test
  void resumeOnAConnectionThatDidNotNegotiateItIsAnError() {
    EmbeddedChannel ch = Wire.connection(true, settings, metrics, null);
    channels.add(ch);
    Wire.in(ch, resume(2));
    Wire.drop(Wire.out(ch));
    assertThat(metrics.protocolErrors("unexpected_resume")).isOne();
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void resumeBeforeAuthenticationIsRefused() {
    TrunkMetrics m = new TrunkMetrics(new SimpleMeterRegistry());
    EmbeddedChannel acceptor = new EmbeddedChannel(new FrameDecoder(settings.maxFramePayload), new FrameEncoder(),
        new PskHandshakeHandler(false, "sp", "0123456789abcdef-secret".getBytes(StandardCharsets.UTF_8), settings,
            Hello.CAP_RESUME, m, (ctx, local, r) -> null, 99, 0));
    channels.add(acceptor);
    Wire.in(acceptor, resume(1));
    List<Frame> out = Wire.out(acceptor);
    assertThat(Wire.types(out)).containsExactly(FrameType.GOAWAY);
    Wire.drop(out);
    assertThat(m.protocolErrors("frame_before_auth")).isOne();
    assertThat(acceptor.isOpen()).isFalse();
  }

  @Test
  void helloCarriesTheResumeIdentityAndOldHellosStillParse() {
    Hello h = new Hello(1, 1, Hello.ROLE_INITIATOR, new byte[32], Hello.CAP_RESUME, 1000, 10, "cp", 123456789L, -5L);
    ByteBuf b = h.encode(A);
    Hello back = Hello.decode(b);
    b.release();
    assertThat(back.incarnation()).isEqualTo(123456789L);
    assertThat(back.resumeToken()).isEqualTo(-5L);
    ByteBuf old = h.encode(A);
    ByteBuf truncated = old.slice(0, old.readableBytes() - 16);
    Hello legacy = Hello.decode(truncated);
    old.release();
    assertThat(legacy.incarnation()).isZero();
    assertThat(legacy.nodeId()).isEqualTo("cp");
  }

  /** Byte-wise comparison of readable bytes. */
  static final class ByteBufEquals {
    static boolean equal(ByteBuf a, ByteBuf b) {
      return io.netty.buffer.ByteBufUtil.equals(a, b);
    }
  }
}
