package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import net.wanrelay.channel.compress.BlockCodec;
import net.wanrelay.channel.compress.CompressionCodec;
import net.wanrelay.channel.compress.CompressionException;
import net.wanrelay.channel.compress.Decompressor;

/**
 * The DATA-frame decompressor on hostile blocks: a codec id off the wire (known or not), a block
 * that is either fuzzed bytes or a real LZ4/zstd block with fuzzed corruption, and a fuzzed output
 * limit. It returns at most the limit or throws {@link CompressionException}; the input buffer is
 * released on every path (except NONE, which hands it back), and an untouched real block decodes to
 * exactly its plain bytes. No buffer (the codec's own scratch included) outlives the call.
 */
class DecompressorFuzzTest {
  private static final Decompressor DECOMPRESSOR = new Decompressor();
  private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

  @FuzzTest
  void decodesOrRefuses(FuzzedDataProvider data) {
    BufferLedger.Mark ledger = BufferLedger.mark();
    int codecId = data.consumeInt(0, 3);
    int maxOutput = data.consumeInt(0, 1 << 16);
    boolean real = codecId >= 1 && codecId <= 2 && data.consumeBoolean();
    int flipAt = data.consumeInt(-1, 64);
    byte[] bytes = data.consumeRemainingAsBytes();
    byte[] plain = null;
    ByteBuf in;
    if (real) {
      plain = bytes;
      in = BlockCodec.encode(ALLOC, CompressionCodec.fromId(codecId), 1, Unpooled.copiedBuffer(bytes));
      if (flipAt >= 0 && flipAt < in.readableBytes()) {
        in.setByte(flipAt, in.getByte(flipAt) ^ 0x5a);
        plain = null; // corrupted: any outcome but a crash is fine
      }
    } else {
      in = Unpooled.buffer(bytes.length).writeBytes(bytes); // never EMPTY_BUFFER, whose release is a no-op
    }
    ByteBuf out = null;
    try {
      out = DECOMPRESSOR.decompress(ALLOC, codecId, in, maxOutput);
      assertThat(out.readableBytes()).isLessThanOrEqualTo(maxOutput);
      if (plain != null && plain.length <= maxOutput) {
        assertThat(ByteBufUtil.getBytes(out)).isEqualTo(plain);
      }
      if (codecId != 0) {
        assertThat(in.refCnt()).as("input not released").isZero();
      }
    } catch (CompressionException e) {
      assertThat(in.refCnt()).as("input not released on the error path").isZero();
      if (plain != null) {
        assertThat(plain.length).as("an intact block was refused: " + e.getMessage()).isGreaterThan(maxOutput);
      }
    } finally {
      if (out != null) {
        out.release();
      }
    }
    ledger.assertBalanced("decompressing");
  }
}
