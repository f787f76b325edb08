package net.wanrelay.channel.frame;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
  private static final ByteBufAllocator A = ByteBufAllocator.DEFAULT;

  /** Encodes frames with FrameEncoder into one buffer. */
  static ByteBuf encode(Frame... frames) {
    EmbeddedChannel enc = new EmbeddedChannel(new FrameEncoder());
    for (Frame f : frames) {
      enc.writeOutbound(f);
    }
    ByteBuf all = Unpooled.buffer();
    ByteBuf b;
    while ((b = enc.readOutbound()) != null) {
      all.writeBytes(b);
      b.release();
    }
    enc.finishAndReleaseAll();
    return all;
  }

  static List<Frame> decodeAll(ByteBuf bytes, int chunk) {
    EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder(1 << 16));
    while (bytes.isReadable()) {
      dec.writeInbound(bytes.readRetainedSlice(Math.min(chunk, bytes.readableBytes())));
    }
    bytes.release();
    List<Frame> out = new ArrayList<>();
    Frame f;
    while ((f = dec.readInbound()) != null) {
      out.add(f);
    }
    assertThat(dec.finish()).isFalse();
    return out;
  }

  @Test
  void everyFrameTypeRoundTripsThroughEncoderAndDecoderByteByByte() throws Exception {
    byte[] nonce = new byte[32];
    nonce[0] = 7;
    Hello hello = new Hello(1, 1, Hello.ROLE_INITIATOR, nonce, Hello.CAP_LZ4 | Hello.CAP_UDP, 262144, 100, "branch-1");
    OpenRequest open = new OpenRequest(StreamProtocol.TCP, new InetSocketAddress(InetAddress.getByName("10.2.0.5"), 443),
        new InetSocketAddress(InetAddress.getByName("::1"), 40000), 2);
    byte[] big = new byte[5000];
    big[4999] = 9;
    List<Frame> in = List.of(
        new Frame(FrameType.HELLO, 0, 0, hello.encode(A)),
        new Frame(FrameType.AUTH, 0, 0, Unpooled.wrappedBuffer(new byte[32])),
        new Frame(FrameType.OPEN, 0, 1, open.encode(A)),
        new Frame(FrameType.OPEN_ACK, 1),
        Frames.openFail(A, 3, ErrorCode.REFUSED, "connection refused"),
        new Frame(FrameType.DATA, 2, 1, Unpooled.wrappedBuffer(big)),
        Frames.window(A, 1, 65536),
        new Frame(FrameType.FIN, 1),
        Frames.rst(A, 5, ErrorCode.TIMEOUT, "timed out"),
        new Frame(FrameType.DATAGRAM, 0, 7, Unpooled.copiedBuffer("dns", StandardCharsets.US_ASCII)),
        Frames.ping(A, FrameType.PING, 42L, 3),
        Frames.ping(A, FrameType.PONG, 42L, 4),
        Frames.goAway(A, 9, ErrorCode.GOING_AWAY, "bye"),
        new Frame(FrameType.DEDUP_REPLY, 0, 1, Unpooled.wrappedBuffer(new byte[] {6, 3})),
        new Frame(FrameType.ANNOUNCE, 0, 0, Unpooled.wrappedBuffer(new byte[] {4, 127, 0, 0, 2, 0x1e, 0x78})),
        new Frame(FrameType.RESUME, 0, 0, new Resume(3, List.of(new Resume.Entry(1, Resume.FLAG_OPEN, 5, 10))).encode(A)));
    assertThat(in.stream().map(Frame::type).distinct()).hasSize(FrameType.values().length);

    List<Frame> out = decodeAll(encode(in.toArray(new Frame[0])), 1);
    try {
      assertThat(out).extracting(Frame::type).containsExactlyElementsOf(in.stream().map(Frame::type).toList());
      Hello h = Hello.decode(out.get(0).content());
      assertThat(h.nodeId()).isEqualTo("branch-1");
      assertThat(h.nonce()).isEqualTo(nonce);
      assertThat(h.initialWindow()).isEqualTo(262144);
      assertThat(h.capabilities()).isEqualTo(Hello.CAP_LZ4 | Hello.CAP_UDP);
      assertThat(OpenRequest.decode(out.get(2).content())).isEqualTo(open);
      assertThat(Frames.reasonCode(out.get(4).content())).isEqualTo(ErrorCode.REFUSED);
      assertThat(Frames.reasonText(out.get(4).content())).isEqualTo("connection refused");
      Frame data = out.get(5);
      assertThat(data.flags()).isEqualTo(2);
      assertThat(data.streamId()).isEqualTo(1);
      byte[] got = new byte[data.content().readableBytes()];
      data.content().readBytes(got);
      assertThat(got).isEqualTo(big);
      assertThat(Frames.windowIncrement(out.get(6).content())).isEqualTo(65536);
      assertThat(Frames.reasonCode(out.get(8).content())).isEqualTo(ErrorCode.TIMEOUT);
      assertThat(out.get(10).content().getLong(0)).isEqualTo(42L);
      ByteBuf ga = out.get(12).content();
      assertThat(ga.getInt(ga.readerIndex())).isEqualTo(9);
      assertThat(Resume.decode(out.get(15).content()).entries()).containsExactly(new Resume.Entry(1, Resume.FLAG_OPEN, 5, 10));
    } finally {
      out.forEach(Frame::release);
    }
  }

  @Test
  void raceOptionRoundTripsAndIsSkippableByOlderReaders() {
    OpenRequest open = new OpenRequest(StreamProtocol.TCP, InetSocketAddress.createUnresolved("files", 445), null, 0).raced();
    ByteBuf b = open.encode(A);
    try {
      int end = b.writerIndex();
      assertThat((int) b.getUnsignedByte(end - 2)).isEqualTo(OpenRequest.OPT_RACE);
      assertThat(OpenRequest.OPT_RACE).as("not critical: an SP without race support skips it").isLessThan(128);
      OpenRequest back = OpenRequest.decode(b);
      assertThat(back.race()).isTrue();
      assertThat(back.withDestination(InetSocketAddress.createUnresolved("x", 1)).race()).isTrue();
    } finally {
      b.release();
    }
    ByteBuf plain = new OpenRequest(StreamProtocol.TCP, InetSocketAddress.createUnresolved("files", 445), null, 0).encode(A);
    try {
      assertThat(OpenRequest.decode(plain).race()).isFalse();
    } finally {
      plain.release();
    }
  }

  @Test
  void dedupOptionRoundTripsAsACriticalEmptyOption() {
    OpenRequest open = new OpenRequest(StreamProtocol.TCP, InetSocketAddress.createUnresolved("files", 445), null, 1, true);
    ByteBuf b = open.encode(A);
    try {
      int end = b.writerIndex();
      assertThat((int) b.getUnsignedByte(end - 2)).isEqualTo(OpenRequest.OPT_DEDUP);
      assertThat((int) b.getUnsignedByte(end - 1)).isZero();
      OpenRequest back = OpenRequest.decode(b);
      assertThat(back.dedup()).isTrue();
      assertThat(back.compressionCodec()).isEqualTo(1);
    } finally {
      b.release();
    }
    ByteBuf plain = new OpenRequest(StreamProtocol.TCP, InetSocketAddress.createUnresolved("files", 445), null, 0).encode(A);
    try {
      assertThat(OpenRequest.decode(plain).dedup()).isFalse();
    } finally {
      plain.release();
    }
  }

  @Test
  void hostNameDestinationsAndMissingSourceRoundTrip() {
    OpenRequest open = new OpenRequest(StreamProtocol.UDP, InetSocketAddress.createUnresolved("db.internal", 53), null, 0);
    ByteBuf b = open.encode(A);
    try {
      OpenRequest back = OpenRequest.decode(b);
      assertThat(back.destination().getHostString()).isEqualTo("db.internal");
      assertThat(back.destination().isUnresolved()).isTrue();
      assertThat(back.source()).isNull();
      assertThat(back.protocol()).isEqualTo(StreamProtocol.UDP);
    } finally {
      b.release();
    }
  }

  @Test
  void unknownFrameTypeFailsAndDiscardsTheRest() {
    EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder(1024));
    ByteBuf bad = Unpooled.buffer().writeByte(0x7F).writeByte(0).writeInt(1).writeMedium(0);
    ByteBuf good = encode(new Frame(FrameType.FIN, 1));
    assertThatThrownBy(() -> dec.writeInbound(Unpooled.wrappedBuffer(bad, good)))
        .isInstanceOf(ProtocolViolation.class).hasMessageContaining("unknown_type");
    assertThat((Object) dec.readInbound()).isNull();
    dec.writeInbound(encode(new Frame(FrameType.FIN, 3)));
    assertThat((Object) dec.readInbound()).as("nothing decoded after a violation").isNull();
    dec.finishAndReleaseAll();
  }

  @Test
  void lengthAboveTheLimitFailsBeforeBuffering() {
    EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder(1024));
    ByteBuf header = Unpooled.buffer().writeByte(FrameType.DATA.code()).writeByte(0).writeInt(1).writeMedium(1025);
    assertThatThrownBy(() -> dec.writeInbound(header))
        .isInstanceOf(ProtocolViolation.class).satisfies(e -> assertThat(((ProtocolViolation) e).reason()).isEqualTo("frame_too_large"));
    dec.finishAndReleaseAll();
  }

  @Test
  void connectionFramesOnAStreamAndStreamFramesOnZeroAreRejected() {
    EmbeddedChannel dec2 = new EmbeddedChannel(new FrameDecoder(1024));
    ByteBuf ping = Unpooled.buffer().writeByte(FrameType.PING.code()).writeByte(0).writeInt(5).writeMedium(0);
    assertThatThrownBy(() -> dec2.writeInbound(ping)).hasMessageContaining("bad_stream_id");
    dec2.finishAndReleaseAll();
    EmbeddedChannel dec3 = new EmbeddedChannel(new FrameDecoder(1024));
    ByteBuf data = Unpooled.buffer().writeByte(FrameType.DATA.code()).writeByte(0).writeInt(0).writeMedium(0);
    assertThatThrownBy(() -> dec3.writeInbound(data)).hasMessageContaining("bad_stream_id");
    dec3.finishAndReleaseAll();
  }

  @Test
  void truncatedPayloadsAreProtocolViolations() {
    ByteBuf shortHello = Unpooled.buffer().writeByte(1).writeByte(1);
    assertThatThrownBy(() -> Hello.decode(shortHello)).isInstanceOf(ProtocolViolation.class);
    shortHello.release();
    ByteBuf badOpen = Unpooled.buffer().writeByte(6).writeByte(9);
    assertThatThrownBy(() -> OpenRequest.decode(badOpen)).hasMessageContaining("address family");
    badOpen.release();
    ByteBuf criticalOpt = Unpooled.buffer().writeByte(6).writeByte(4).writeInt(0x7f000001).writeShort(80).writeByte(0)
        .writeByte(200).writeByte(0);
    assertThatThrownBy(() -> OpenRequest.decode(criticalOpt)).hasMessageContaining("critical");
    criticalOpt.release();
    ByteBuf zeroWindow = Unpooled.buffer().writeInt(0);
    assertThatThrownBy(() -> Frames.windowIncrement(zeroWindow)).hasMessageContaining("bad_window");
    zeroWindow.release();
  }
}
