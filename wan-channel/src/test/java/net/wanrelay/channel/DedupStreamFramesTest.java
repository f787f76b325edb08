package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.wanrelay.channel.dedup.DedupToken;
import net.wanrelay.channel.dedup.DedupTokenCodec;
import net.wanrelay.channel.dedup.Fingerprint;
import net.wanrelay.channel.dedup.Fingerprinter;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameType;
import net.wanrelay.channel.frame.Frames;
import net.wanrelay.channel.frame.Hello;
import net.wanrelay.channel.frame.OpenRequest;
import net.wanrelay.channel.frame.StreamProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dedup frames of one stream, frame by frame on an EmbeddedChannel (acceptor side). */
class DedupStreamFramesTest {
  private static final ByteBufAllocator A = ByteBufAllocator.DEFAULT;
  private static final int ALL_CAPS = Hello.CAP_LZ4 | Hello.CAP_ZSTD | Hello.CAP_UDP | Hello.CAP_DEDUP;

  private final TrunkSettings settings = LoopbackTrunk.testSettings();
  private final TrunkMetrics metrics = new TrunkMetrics(new SimpleMeterRegistry());
  private final DedupPeers dedup = new DedupPeers(DedupSettings.builder().memoryBytes(8 << 20).build(), null);
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private final List<String> events = new ArrayList<>();
  private EmbeddedChannel ch;

  private final StreamListener listener = new StreamListener() {
    @Override
    public void onData(TrunkStream s, ByteBuf data) {
      byte[] b = new byte[data.readableBytes()];
      data.readBytes(b);
      received.writeBytes(b);
      data.release();
      s.consumed(b.length);
    }

    @Override
    public void onFin(TrunkStream s) { events.add("fin"); }

    @Override
    public void onReset(TrunkStream s, ErrorCode code, String message) { events.add("rst:" + code.label()); }
  };

  @AfterEach
  void tearDown() {
    if (ch != null) {
      Wire.drop(Wire.out(ch));
      ch.finishAndReleaseAll();
    }
    dedup.close();
  }

  private void acceptor(DedupPeers d, int remoteCaps) {
    ch = Wire.dedupConnection(settings, metrics, s -> s.accept(listener), d, remoteCaps);
  }

  private static Frame open(int id, boolean withDedup) {
    return new Frame(FrameType.OPEN, 0, id,
        new OpenRequest(StreamProtocol.TCP, new InetSocketAddress("127.0.0.1", 9), null, 0, withDedup).encode(A));
  }

  private static Frame tokens(FrameType type, int id, DedupToken... tokens) {
    ByteBuf b = Unpooled.buffer();
    for (DedupToken t : tokens) {
      DedupTokenCodec.write(t, b);
    }
    return new Frame(type, 0, id, b);
  }

  private static byte[] chunk(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  private List<DedupToken> replies(List<Frame> out) {
    List<DedupToken> l = new ArrayList<>();
    for (Frame f : out) {
      if (f.type() == FrameType.DEDUP_REPLY) {
        l.addAll(new DedupTokenCodec().readAll(f.content()));
      }
    }
    return l;
  }

  @Test
  void literalsAreDeliveredAndAMissingChunkIsAskedForThenSupplied() {
    acceptor(dedup, ALL_CAPS);
    byte[] a = chunk(5000, 1);
    byte[] b = chunk(7000, 2);
    Fingerprint fa = new Fingerprinter().of(a);
    Fingerprint fb = new Fingerprinter().of(b);
    Wire.in(ch, open(1, true), tokens(FrameType.DATA, 1, new DedupToken.Literal(fa, 0, a)));
    Wire.drop(Wire.out(ch));
    // b was never sent: a Ref to it is held back, asked for, then resolved by the Supply.
    Wire.in(ch, tokens(FrameType.DATA, 1, new DedupToken.Ref(fb, b.length), new DedupToken.Ref(fa, a.length)));
    List<Frame> out = Wire.out(ch);
    assertThat(replies(out)).containsExactly(new DedupToken.Ask(fb));
    Wire.drop(out);
    assertThat(received.size()).isEqualTo(a.length);

    Wire.in(ch, tokens(FrameType.DATA, 1, new DedupToken.Supply(fb, b)));
    out = Wire.out(ch);
    assertThat(replies(out)).containsExactly(new DedupToken.Ack(2));
    Wire.drop(out);
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(a);
    expected.writeBytes(b);
    expected.writeBytes(a);
    assertThat(received.toByteArray()).isEqualTo(expected.toByteArray());
    assertThat(events).isEmpty();
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void aLiteralThatDoesNotMatchItsFingerprintResetsOnlyThatStream() {
    acceptor(dedup, ALL_CAPS);
    byte[] a = chunk(4000, 3);
    Fingerprint wrong = new Fingerprinter().of(chunk(4000, 4));
    Wire.in(ch, open(1, true), open(3, true), tokens(FrameType.DATA, 1, new DedupToken.Literal(wrong, 0, a)));
    List<Frame> out = Wire.out(ch);
    assertThat(out).anySatisfy(f -> {
      assertThat(f.type()).isEqualTo(FrameType.RST);
      assertThat(f.streamId()).isEqualTo(1);
      assertThat(Frames.reasonCode(f.content())).isEqualTo(ErrorCode.PROTOCOL_ERROR);
    });
    Wire.drop(out);
    assertThat(received.size()).isZero();
    assertThat(events).containsExactly("rst:protocol_error");
    assertThat(metrics.protocolErrors("bad_dedup_data")).isEqualTo(1);
    // The connection and the other stream carry on.
    Wire.in(ch, tokens(FrameType.DATA, 3, new DedupToken.Literal(new Fingerprinter().of(a), 0, a)));
    assertThat(received.toByteArray()).isEqualTo(a);
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void garbageTokensResetTheStream() {
    acceptor(dedup, ALL_CAPS);
    Wire.in(ch, open(1, true), new Frame(FrameType.DATA, 0, 1, Unpooled.wrappedBuffer(new byte[] {0x7E, 1, 2, 3})));
    Wire.drop(Wire.out(ch));
    assertThat(events).containsExactly("rst:protocol_error");
    assertThat(metrics.protocolErrors("bad_dedup_data")).isEqualTo(1);
    assertThat(ch.isOpen()).isTrue();
  }

  @Test
  void refsExpandingBeyondTheWindowAreAFlowControlError() {
    acceptor(dedup, ALL_CAPS);
    byte[] a = chunk(60_000, 5);
    Fingerprint fa = new Fingerprinter().of(a);
    Wire.in(ch, open(1, true), tokens(FrameType.DATA, 1, new DedupToken.Literal(fa, 0, a)));
    Wire.drop(Wire.out(ch));
    // The listener consumed it, but the initial window minus 60 KB cannot take this many more copies.
    List<DedupToken> refs = new ArrayList<>();
    for (int i = 0; i <= settings.initialWindow / a.length; i++) {
      refs.add(new DedupToken.Ref(fa, a.length));
    }
    received.reset();
    Wire.in(ch, tokens(FrameType.DATA, 1, refs.toArray(new DedupToken[0])));
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).contains(FrameType.GOAWAY);
    Wire.drop(out);
    assertThat(metrics.protocolErrors("window_overflow")).isEqualTo(1);
  }

  @Test
  void dedupOptionWithoutNegotiationIsABadOpen() {
    acceptor(null, ALL_CAPS); // this node keeps no stores (and so did not advertise the bit)
    Wire.in(ch, open(1, true));
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).contains(FrameType.GOAWAY);
    Wire.drop(out);
    assertThat(metrics.protocolErrors("bad_open")).isEqualTo(1);
  }

  @Test
  void dedupReplyOnAPlainStreamIsAConnectionError() {
    acceptor(dedup, ALL_CAPS);
    Wire.in(ch, open(1, false), tokens(FrameType.DEDUP_REPLY, 1, new DedupToken.Ack(0)));
    List<Frame> out = Wire.out(ch);
    assertThat(Wire.types(out)).contains(FrameType.GOAWAY);
    Wire.drop(out);
    assertThat(metrics.protocolErrors("bad_frame_for_stream")).isEqualTo(1);
  }
}
