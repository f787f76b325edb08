package net.wanrelay.channel.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DedupTokenCodecTest {
  static final Fingerprint FP = new Fingerprinter().of(new byte[] {1, 2, 3});
  final DedupTokenCodec codec = new DedupTokenCodec(65536);

  static List<DedupToken> samples() {
    return List.of(
        new DedupToken.Literal(FP, 0, new byte[] {9, 8, 7}),
        new DedupToken.Literal(FP, 300, new byte[0]),
        new DedupToken.Literal(FP, 17, DedupTestData.random(65536 - 17, 1)),
        new DedupToken.Ref(FP, 8192),
        new DedupToken.Ref(FP, 1),
        new DedupToken.Raw(DedupTestData.random(200, 2)),
        new DedupToken.Supply(FP, DedupTestData.random(65536, 3)),
        new DedupToken.Ask(FP),
        new DedupToken.Ack(0),
        new DedupToken.Ack(Long.MAX_VALUE),
        new DedupToken.Ack(128));
  }

  private static ByteBuf encodeAll(List<DedupToken> tokens) {
    ByteBuf buf = Unpooled.buffer();
    for (DedupToken t : tokens) {
      int before = buf.writerIndex();
      DedupTokenCodec.write(t, buf);
      assertThat(buf.writerIndex() - before).isLessThanOrEqualTo(DedupTokenCodec.maxEncodedLength(t));
    }
    return buf;
  }

  /** Records hold arrays (no value equality): compare type and encoded form. */
  private static void assertSameToken(DedupToken actual, DedupToken expected) {
    assertThat(actual).hasSameClassAs(expected);
    ByteBuf a = encodeAll(List.of(actual));
    ByteBuf e = encodeAll(List.of(expected));
    try {
      assertThat(io.netty.buffer.ByteBufUtil.equals(a, e)).isTrue();
    } finally {
      a.release();
      e.release();
    }
  }

  @Test
  void everyTokenRoundTrips() {
    List<DedupToken> tokens = samples();
    ByteBuf buf = encodeAll(tokens);
    try {
      List<DedupToken> back = codec.readAll(buf);
      assertThat(back).hasSize(tokens.size());
      for (int i = 0; i < tokens.size(); i++) {
        assertSameToken(back.get(i), tokens.get(i));
      }
    } finally {
      buf.release();
    }
  }

  @Test
  void aPartialTokenReadsAsNullAndLeavesTheBufferAlone() {
    for (DedupToken token : samples()) {
      ByteBuf whole = encodeAll(List.of(token));
      byte[] bytes = new byte[whole.readableBytes()];
      whole.readBytes(bytes);
      whole.release();
      // every prefix length (sampled for the long ones)
      int step = Math.max(1, bytes.length / 200);
      for (int n = 0; n < bytes.length; n += (n < 40 ? 1 : step)) {
        ByteBuf part = Unpooled.wrappedBuffer(bytes, 0, n);
        assertThat(codec.read(part)).isNull();
        assertThat(part.readerIndex()).isZero();
      }
      ByteBuf full = Unpooled.wrappedBuffer(bytes);
      assertSameToken(codec.read(full), token);
      assertThat(full.isReadable()).isFalse();
      assertThatThrownBy(() -> codec.readAll(Unpooled.wrappedBuffer(bytes, 0, bytes.length - 1)))
          .isInstanceOf(DedupException.class).hasMessageContaining("truncated");
    }
  }

  @Test
  void rejectsBadTypesLengthsAndVarints() {
    byte[] fp = FP.toBytes();
    List<byte[]> bad = new ArrayList<>();
    bad.add(new byte[] {0});
    bad.add(new byte[] {7});
    bad.add(new byte[] {(byte) 0xff});
    bad.add(concat(new byte[] {DedupTokenCodec.REF}, fp, new byte[] {0})); // ref of 0 bytes
    bad.add(concat(new byte[] {DedupTokenCodec.REF}, fp, new byte[] {(byte) 0x81, (byte) 0x80, 0x04})); // 65537
    bad.add(concat(new byte[] {DedupTokenCodec.RAW}, new byte[] {(byte) 0x80, 0})); // overlong zero
    bad.add(concat(new byte[] {DedupTokenCodec.RAW}, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1}));
    bad.add(concat(new byte[] {DedupTokenCodec.RAW}, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x0f})); // > 31 bits
    bad.add(concat(new byte[] {DedupTokenCodec.LITERAL}, fp, new byte[] {0, 0})); // empty chunk
    bad.add(concat(new byte[] {DedupTokenCodec.LITERAL}, fp, new byte[] {(byte) 0x80, (byte) 0x80, 0x04, 1})); // 65536 + 1
    bad.add(concat(new byte[] {DedupTokenCodec.SUPPLY}, fp, new byte[] {(byte) 0x80, (byte) 0x80, 0x08})); // 131072
    bad.add(concat(new byte[] {DedupTokenCodec.ACK}, new byte[] {(byte) 0x80, 0}));
    bad.add(concat(new byte[] {DedupTokenCodec.ACK}, new byte[] {
        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1}));
    for (byte[] b : bad) {
      assertThatThrownBy(() -> codec.read(Unpooled.wrappedBuffer(b)))
          .as("input %s", java.util.HexFormat.of().formatHex(b))
          .isInstanceOf(DedupException.class);
    }
  }

  @Test
  void randomAndMutatedInputOnlyEverGivesTokensNullOrTheClearException() {
    SplittableRandom random = new SplittableRandom(42);
    ByteBuf valid = encodeAll(samples().stream().filter(t -> DedupTokenCodec.maxEncodedLength(t) < 1000).toList());
    byte[] validBytes = new byte[valid.readableBytes()];
    valid.readBytes(validBytes);
    valid.release();
    int tokens = 0;
    int errors = 0;
    for (int round = 0; round < 3000; round++) {
      byte[] input;
      if (round % 2 == 0) {
        input = DedupTestData.random(1 + random.nextInt(300), round);
      } else {
        input = validBytes.clone();
        for (int k = 0; k < 1 + random.nextInt(4); k++) {
          input[random.nextInt(input.length)] = (byte) random.nextInt();
        }
      }
      ByteBuf buf = Unpooled.wrappedBuffer(input);
      try {
        // bounded loop: every non-null read consumes at least one byte
        for (int i = 0; i <= input.length; i++) {
          int before = buf.readerIndex();
          DedupToken t = codec.read(buf);
          if (t == null) {
            assertThat(buf.readerIndex()).isEqualTo(before);
            break;
          }
          assertThat(buf.readerIndex()).isGreaterThan(before);
          tokens++;
        }
      } catch (DedupException expected) {
        errors++;
      }
    }
    assertThat(tokens).isPositive();
    assertThat(errors).isPositive();
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int off = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, off, p.length);
      off += p.length;
    }
    return out;
  }
}
