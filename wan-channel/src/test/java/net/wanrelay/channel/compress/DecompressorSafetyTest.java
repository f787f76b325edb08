package net.wanrelay.channel.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DecompressorSafetyTest {
  static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
  final Decompressor decompressor = new Decompressor(new CompressionMetrics());

  private static byte[] encode(CompressionCodec codec, byte[] plain) {
    ByteBuf encoded = BlockCodec.encode(ALLOC, codec, 3, Unpooled.wrappedBuffer(plain));
    try {
      return ByteBufUtil.getBytes(encoded);
    } finally {
      encoded.release();
    }
  }

  @ParameterizedTest
  @EnumSource(value = CompressionCodec.class, names = {"LZ4", "ZSTD"})
  void rejectsABombBeforeAllocating(CompressionCodec codec) {
    byte[] bomb = encode(codec, new byte[8 << 20]); // 8 MiB of zeros: a few KiB on the wire
    assertThat(bomb.length).isLessThan(64 * 1024);
    ByteBuf in = ALLOC.directBuffer().writeBytes(bomb);
    assertThatThrownBy(() -> decompressor.decompress(ALLOC, codec, in, 1 << 20))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining("limit");
    assertThat(in.refCnt()).isZero();
  }

  @ParameterizedTest
  @EnumSource(value = CompressionCodec.class, names = {"LZ4", "ZSTD"})
  void rejectsALyingLengthHeader(CompressionCodec codec) {
    byte[] block = encode(codec, TestPayloads.text(100_000, 21));
    for (int declared : new int[] {1000, 99_999, 100_001, 4 << 20}) {
      byte[] forged = block.clone();
      forged[0] = (byte) (declared >>> 24);
      forged[1] = (byte) (declared >>> 16);
      forged[2] = (byte) (declared >>> 8);
      forged[3] = (byte) declared;
      ByteBuf in = Unpooled.wrappedBuffer(forged);
      assertThatThrownBy(() -> decompressor.decompress(ALLOC, codec, in, 16 << 20))
          .isInstanceOf(CompressionException.class)
          .hasMessageContaining("corrupt");
      assertThat(in.refCnt()).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(value = CompressionCodec.class, names = {"LZ4", "ZSTD"})
  void corruptBlocksNeverDecodeToWrongBytes(CompressionCodec codec) {
    byte[] plain = TestPayloads.text(20_000, 22);
    byte[] block = encode(codec, plain);
    SplittableRandom random = new SplittableRandom(23);
    int rejected = 0;
    for (int i = 0; i < 300; i++) {
      byte[] bad;
      switch (i % 3) {
        case 0: // flip one bit after the length header
          bad = block.clone();
          int pos = 4 + random.nextInt(bad.length - 4);
          bad[pos] ^= (byte) (1 << random.nextInt(8));
          break;
        case 1: // truncate
          bad = Arrays.copyOf(block, random.nextInt(block.length));
          break;
        default: // garbage with a plausible header
          bad = TestPayloads.random(1 + random.nextInt(2000), i);
          bad[0] = 0;
          if (bad.length > 1) {
            bad[1] = 0;
          }
      }
      ByteBuf in = ALLOC.directBuffer().writeBytes(bad);
      try {
        ByteBuf out = decompressor.decompress(ALLOC, codec, in, 1 << 20);
        try {
          assertThat(ByteBufUtil.getBytes(out)).as("a block that decodes must decode to the original").isEqualTo(plain);
        } finally {
          out.release();
        }
      } catch (CompressionException expected) {
        rejected++;
      }
      assertThat(in.refCnt()).isZero();
    }
    assertThat(rejected).isEqualTo(300);
  }

  @Test
  void rejectsOversizedPlainBlocksAndUnknownCodecs() {
    ByteBuf big = Unpooled.buffer(101).writeZero(101);
    assertThatThrownBy(() -> decompressor.decompress(ALLOC, CompressionCodec.NONE, big, 100))
        .isInstanceOf(CompressionException.class);
    assertThat(big.refCnt()).isZero();

    ByteBuf ok = Unpooled.buffer(100).writeZero(100);
    ByteBuf same = decompressor.decompress(ALLOC, CompressionCodec.NONE, ok, 100);
    assertThat(same).isSameAs(ok);
    same.release();

    ByteBuf unknown = Unpooled.buffer(10).writeZero(10);
    assertThatThrownBy(() -> decompressor.decompress(ALLOC, 3, unknown, 100))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining("unknown compression codec id 3");
    assertThat(unknown.refCnt()).as("released on the unknown-id path").isZero();
    ByteBuf byId = decompressor.decompress(ALLOC, CompressionCodec.NONE.id(), Unpooled.buffer(5).writeZero(5), 100);
    assertThat(byId.readableBytes()).isEqualTo(5);
    byId.release();

    assertThatThrownBy(() -> CompressionCodec.fromId(3))
        .isInstanceOf(CompressionException.class)
        .hasMessageContaining("unknown compression codec id 3");
    assertThatThrownBy(() -> CompressionCodec.fromId(-1)).isInstanceOf(CompressionException.class);
    for (CompressionCodec codec : CompressionCodec.values()) {
      assertThat(CompressionCodec.fromId(codec.id())).isSameAs(codec);
    }
    assertThat(CompressionCodec.NONE.id()).isZero();
    assertThat(CompressionCodec.LZ4.id()).isEqualTo(1);
    assertThat(CompressionCodec.ZSTD.id()).isEqualTo(2);
  }

  @Test
  void shortBlocksAreRejected() {
    for (CompressionCodec codec : new CompressionCodec[] {CompressionCodec.LZ4, CompressionCodec.ZSTD}) {
      for (int n = 0; n <= 8; n++) {
        ByteBuf in = Unpooled.buffer(n).writeZero(n);
        assertThatThrownBy(() -> decompressor.decompress(ALLOC, codec, in, 1000))
            .isInstanceOf(CompressionException.class);
        assertThat(in.refCnt()).isZero();
      }
    }
  }
}
