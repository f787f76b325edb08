package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import net.wanrelay.channel.dedup.DedupException;
import net.wanrelay.channel.dedup.DedupToken;
import net.wanrelay.channel.dedup.DedupTokenCodec;

/**
 * The dedup token codec on arbitrary bytes: {@code read} returns a token, null (need more bytes,
 * reader index untouched) or throws {@link DedupException}; nothing else. Every token read writes
 * back to exactly the bytes it was read from (the format has one encoding per token), and no
 * token's data exceeds the chunk limit. No buffer outlives the input.
 */
class DedupTokenCodecFuzzTest {

  @FuzzTest
  void readsCanonicalTokensOnly(FuzzedDataProvider data) {
    BufferLedger.Mark ledger = BufferLedger.mark();
    readAll(data);
    ledger.assertBalanced("reading the tokens");
  }

  private static void readAll(FuzzedDataProvider data) {
    int maxChunk = data.consumeInt(1, 1 << 16);
    byte[] bytes = data.consumeRemainingAsBytes();
    DedupTokenCodec codec = new DedupTokenCodec(maxChunk);
    ByteBuf in = Unpooled.wrappedBuffer(bytes);
    ByteBuf again = Unpooled.buffer();
    try {
      while (in.isReadable()) {
        int start = in.readerIndex();
        DedupToken token;
        try {
          token = codec.read(in);
        } catch (DedupException e) {
          assertThat(e.getMessage()).isNotBlank();
          return;
        }
        if (token == null) {
          assertThat(in.readerIndex()).isEqualTo(start);
          return;
        }
        checkLimits(token, maxChunk);
        again.clear();
        DedupTokenCodec.write(token, again);
        byte[] consumed = Arrays.copyOfRange(bytes, start, in.readerIndex());
        assertThat(ByteBufUtil.getBytes(again)).as(token.getClass().getSimpleName() + " round trip").isEqualTo(consumed);
        assertThat(again.readableBytes()).isLessThanOrEqualTo(DedupTokenCodec.maxEncodedLength(token));
      }
    } finally {
      in.release();
      again.release();
    }
  }

  private static void checkLimits(DedupToken token, int maxChunk) {
    if (token instanceof DedupToken.Literal t) {
      assertThat((long) t.prefixLength() + t.data().length).isBetween(1L, (long) maxChunk);
    } else if (token instanceof DedupToken.Ref t) {
      assertThat(t.length()).isBetween(1, maxChunk);
    } else if (token instanceof DedupToken.Raw t) {
      assertThat(t.data().length).isBetween(1, maxChunk);
    } else if (token instanceof DedupToken.Supply t) {
      assertThat(t.data().length).isBetween(1, maxChunk);
    } else if (token instanceof DedupToken.Ack t) {
      assertThat(t.resolvedRefs()).isNotNegative();
    }
  }
}
