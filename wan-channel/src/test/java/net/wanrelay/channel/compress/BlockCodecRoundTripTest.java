package net.wanrelay.channel.compress;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.stream.Stream;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class BlockCodecRoundTripTest {
  /** Largest DATA payload the 24-bit frame length allows. */
  static final int MAX_BLOCK = (1 << 24) - 1;
  static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;

  static Stream<Arguments> payloads() {
    Stream.Builder<Arguments> b = Stream.builder();
    for (CompressionCodec codec : CompressionCodec.values()) {
      b.add(Arguments.of(codec, "empty", new byte[0]));
      b.add(Arguments.of(codec, "one byte", new byte[] {42}));
      b.add(Arguments.of(codec, "text 100k", TestPayloads.text(100_000, 1)));
      b.add(Arguments.of(codec, "random 100k", TestPayloads.random(100_000, 2)));
      b.add(Arguments.of(codec, "zeros 64k", new byte[65536]));
    }
    return b.build();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("payloads")
  void roundTripsDirectInput(CompressionCodec codec, String name, byte[] data) {
    ByteBuf plain = ALLOC.directBuffer(data.length).writeBytes(data);
    assertRoundTrip(codec, data, plain);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("payloads")
  void roundTripsHeapAndCompositeInput(CompressionCodec codec, String name, byte[] data) {
    assertRoundTrip(codec, data, Unpooled.buffer(data.length).writeBytes(data));
    CompositeByteBuf composite = ALLOC.compositeBuffer();
    int half = data.length / 2;
    composite.addComponent(true, ALLOC.heapBuffer().writeBytes(data, 0, half));
    composite.addComponent(true, ALLOC.directBuffer().writeBytes(data, half, data.length - half));
    assertRoundTrip(codec, data, composite);
  }

  @ParameterizedTest
  @EnumSource(CompressionCodec.class)
  void roundTripsMaxSizeBlocks(CompressionCodec codec) {
    byte[] text = TestPayloads.text(MAX_BLOCK, 3);
    assertRoundTrip(codec, text, ALLOC.directBuffer(MAX_BLOCK).writeBytes(text));
    byte[] random = TestPayloads.random(MAX_BLOCK, 4);
    assertRoundTrip(codec, random, ALLOC.directBuffer(MAX_BLOCK).writeBytes(random));
  }

  @ParameterizedTest
  @EnumSource(value = CompressionCodec.class, names = {"LZ4", "ZSTD"})
  void compressesTextToLessThanHalf(CompressionCodec codec) {
    byte[] text = TestPayloads.text(200_000, 5);
    ByteBuf encoded = BlockCodec.encode(ALLOC, codec, 3, Unpooled.wrappedBuffer(text));
    try {
      assertThat(encoded.readableBytes()).isLessThan(text.length / 2);
      // the header carries the original length
      assertThat(encoded.getInt(0)).isEqualTo(text.length);
    } finally {
      encoded.release();
    }
  }

  private static void assertRoundTrip(CompressionCodec codec, byte[] data, ByteBuf plain) {
    assertThat(plain.refCnt()).isEqualTo(1);
    ByteBuf keep = codec == CompressionCodec.NONE ? null : plain;
    ByteBuf encoded = BlockCodec.encode(ALLOC, codec, 3, plain);
    if (keep != null) {
      assertThat(keep.refCnt()).as("encode releases its input").isZero();
    }
    ByteBuf decoded = new Decompressor().decompress(ALLOC, codec, encoded, data.length);
    try {
      assertThat(encoded.refCnt() == 0 || decoded == encoded).as("decompress releases its input").isTrue();
      assertThat(decoded.readableBytes()).isEqualTo(data.length);
      assertThat(Hashes.sha256Hex(ByteBufUtil.getBytes(decoded))).isEqualTo(Hashes.sha256Hex(data));
    } finally {
      decoded.release();
    }
  }
}
