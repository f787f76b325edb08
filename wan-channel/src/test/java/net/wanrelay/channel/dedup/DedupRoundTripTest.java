package net.wanrelay.channel.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import net.wanrelay.testsupport.Hashes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DedupRoundTripTest {
  static final int SIZE = 4 << 20;
  static final byte[] DATA = DedupTestData.random(SIZE, 100);

  @TempDir Path tmp;

  static void assertExact(byte[] received, byte[] sent) {
    assertThat(received.length).isEqualTo(sent.length);
    assertThat(Hashes.sha256Hex(received)).isEqualTo(Hashes.sha256Hex(sent));
  }

  @Test
  void theSameDataTwiceIsNearlyAllRefsTheSecondTime() {
    ChunkStore sender = ChunkStore.inMemory(64 << 20);
    ChunkStore receiver = ChunkStore.inMemory(64 << 20);

    DedupLink first = new DedupLink(sender, receiver);
    assertExact(first.transferAll(DATA, 64 * 1024, false), DATA);
    assertThat(first.encoder.refBytes()).isZero();
    assertThat(first.forwardWireBytes).isGreaterThan(SIZE);

    DedupLink second = new DedupLink(sender, receiver);
    assertExact(second.transferAll(DATA, 64 * 1024, false), DATA);
    assertThat(second.encoder.refBytes()).isGreaterThan(SIZE * 99L / 100);
    assertThat(second.forwardWireBytes).isLessThan(SIZE / 200);
    assertThat(second.asks).isZero();
    assertThat(second.encoder.pinnedBytes()).as("all refs acknowledged").isZero();
  }

  @Test
  void sharedMetricsCountSavedBytes() {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    DedupMetrics metrics = new DedupMetrics().bindTo(registry);
    ChunkStore sender = ChunkStore.inMemory(64 << 20);
    ChunkStore receiver = ChunkStore.inMemory(64 << 20);
    DedupMetrics.bindStore(registry, receiver, io.micrometer.core.instrument.Tags.of("peer", "b"));
    byte[] data = DedupTestData.random(1 << 20, 106);
    for (int pass = 0; pass < 2; pass++) {
      DedupLink link = new DedupLink(
          new DedupEncoder(sender, ChunkingParams.DEFAULT, 32 << 20, metrics),
          new DedupDecoder(receiver, 65536, 16 << 20, metrics));
      assertExact(link.transferAll(data, 64 * 1024, false), data);
    }
    assertThat(metrics.plainBytes()).isEqualTo(2L * data.length);
    assertThat(metrics.decodedBytes()).isEqualTo(2L * data.length);
    assertThat(metrics.literalBytes() + metrics.refBytes()).isEqualTo(2L * data.length);
    assertThat(metrics.refBytes()).isGreaterThan(data.length * 99L / 100);
    assertThat(registry.get("wanrelay.dedup.ref.bytes").functionCounter().count()).isEqualTo((double) metrics.refBytes());
    assertThat(registry.get("wanrelay.dedup.store.memory.bytes").tag("peer", "b").gauge().value())
        .isEqualTo((double) receiver.memoryBytes());
  }

  @Test
  void directHeapAndCompositeInputGiveTheSameTokens() {
    byte[] data = DedupTestData.random(1 << 20, 107);
    io.netty.buffer.ByteBufAllocator alloc = io.netty.buffer.PooledByteBufAllocator.DEFAULT;
    String expected = null;
    for (int kind = 0; kind < 3; kind++) {
      DedupEncoder encoder = new DedupEncoder(ChunkStore.inMemory(8 << 20));
      io.netty.buffer.ByteBuf wire = io.netty.buffer.Unpooled.buffer();
      java.util.SplittableRandom random = new java.util.SplittableRandom(kind);
      int off = 0;
      while (off < data.length) {
        int n = Math.min(data.length - off, 1 + random.nextInt(100_000));
        io.netty.buffer.ByteBuf in;
        if (kind == 0) {
          in = alloc.directBuffer(n).writeBytes(data, off, n);
        } else if (kind == 1) {
          in = alloc.heapBuffer(n).writeBytes(data, off, n);
        } else {
          int half = n / 2;
          in = alloc.compositeBuffer()
              .addComponent(true, alloc.directBuffer().writeBytes(data, off, half))
              .addComponent(true, alloc.heapBuffer().writeBytes(data, off + half, n - half));
        }
        try {
          encoder.encode(in, t -> DedupTokenCodec.write(t, wire));
          assertThat(in.isReadable()).isFalse();
        } finally {
          in.release();
        }
        off += n;
      }
      encoder.finish(t -> DedupTokenCodec.write(t, wire));
      String hash = Hashes.sha256Hex(io.netty.buffer.ByteBufUtil.getBytes(wire));
      wire.release();
      if (expected == null) {
        expected = hash;
      } else {
        assertThat(hash).as("token stream for input kind %d", kind).isEqualTo(expected);
      }
    }
  }

  @Test
  void onePercentChangedSendsAtMostTenPercentLiterals() {
    ChunkStore sender = ChunkStore.inMemory(64 << 20);
    ChunkStore receiver = ChunkStore.inMemory(64 << 20);
    new DedupLink(sender, receiver).transferAll(DATA, 64 * 1024, false);

    // 1% of the bytes changed, in 20 local edits of 2 KiB (overwrites, insertions, deletions).
    byte[] changed = DedupTestData.edited(DATA, 20, SIZE / 100 / 20, 101);
    DedupLink second = new DedupLink(sender, receiver);
    assertExact(second.transferAll(changed, 64 * 1024, false), changed);
    assertThat(second.encoder.literalBytes()).isLessThanOrEqualTo(changed.length / 10);
    assertThat(second.forwardWireBytes).isLessThan(changed.length / 10);
  }

  @Test
  void flushesDoNotMoveChunkBoundaries() {
    ChunkStore sender = ChunkStore.inMemory(64 << 20);
    ChunkStore receiver = ChunkStore.inMemory(64 << 20);
    byte[] data = DedupTestData.random(1 << 20, 102);
    DedupLink first = new DedupLink(sender, receiver);
    assertExact(first.transferAll(data, 1000, true), data); // interactive: flush every 1000 bytes
    assertThat(first.encoder.rawBytes()).isGreaterThan(data.length / 2);

    // Same chunks as without flushes: a bulk pass now finds them all.
    DedupLink second = new DedupLink(sender, receiver);
    assertExact(second.transferAll(data, 64 * 1024, false), data);
    assertThat(second.encoder.refBytes()).isGreaterThan(data.length * 99L / 100);

    // With flushes every 64 KiB only the chunks a flush splits go out as raw + literal.
    DedupLink third = new DedupLink(sender, receiver);
    assertExact(third.transferAll(data, 64 * 1024, true), data);
    assertThat(third.encoder.refBytes()).isGreaterThan(data.length * 80L / 100);
    assertThat(third.asks).isZero();
  }

  @Test
  void aWipedReceiverStoreCostsAsksNotData() {
    ChunkStore sender = ChunkStore.inMemory(64 << 20);
    new DedupLink(sender, ChunkStore.inMemory(64 << 20)).transferAll(DATA, 64 * 1024, false);

    ChunkStore wiped = ChunkStore.inMemory(64 << 20);
    DedupLink second = new DedupLink(sender, wiped);
    assertExact(second.transferAll(DATA, 64 * 1024, false), DATA);
    assertThat(second.asks).isGreaterThan(100);
    assertThat(second.decoder.asks()).isEqualTo(second.asks);
    assertThat(second.encoder.supplyBytes()).isGreaterThan(SIZE * 99L / 100);
    assertThat(second.encoder.pinnedBytes()).isZero();

    // The receiver learned the chunks from the supplies: a third pass needs no asks.
    DedupLink third = new DedupLink(sender, wiped);
    assertExact(third.transferAll(DATA, 64 * 1024, false), DATA);
    assertThat(third.asks).isZero();
  }

  @Test
  void aCorruptReceiverDiskStoreCostsAsksNotData() throws IOException {
    Path dir = tmp.resolve("receiver");
    ChunkStore.Config config = new ChunkStore.Config(1, 64 << 20, 8 << 20, 65536); // reads come from disk
    ChunkStore sender = ChunkStore.inMemory(64 << 20);
    byte[] data = DedupTestData.random(1 << 20, 103);
    try (ChunkStore receiver = ChunkStore.open(dir, config)) {
      new DedupLink(sender, receiver).transferAll(data, 64 * 1024, false);
    }
    // Damage the data of the segment every 50 KiB.
    try (Stream<Path> files = Files.list(dir)) {
      for (Path segment : files.toList()) {
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
          for (long pos = 40_000; pos < ch.size(); pos += 50_000) {
            ch.write(ByteBuffer.wrap(new byte[] {0x55, 0x66}), pos);
          }
        }
      }
    }
    try (ChunkStore receiver = ChunkStore.open(dir, config)) {
      DedupLink second = new DedupLink(sender, receiver);
      assertExact(second.transferAll(data, 64 * 1024, false), data);
      assertThat(receiver.corruptChunks() + receiver.damagedSegmentsOnOpen()).isPositive();
      assertThat(second.asks).isPositive();
      assertThat(second.encoder.refBytes()).isGreaterThan(data.length / 2);
    }
  }

  @Test
  void theStoresSurviveARestartOfBothEnds() {
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");
    ChunkStore.Config config = ChunkStore.Config.of(8 << 20, 64 << 20);
    try (ChunkStore sender = ChunkStore.open(a, config); ChunkStore receiver = ChunkStore.open(b, config)) {
      new DedupLink(sender, receiver).transferAll(DATA, 64 * 1024, false);
    }
    try (ChunkStore sender = ChunkStore.open(a, config); ChunkStore receiver = ChunkStore.open(b, config)) {
      DedupLink second = new DedupLink(sender, receiver);
      assertExact(second.transferAll(DATA, 64 * 1024, false), DATA);
      assertThat(second.encoder.refBytes()).isGreaterThan(SIZE * 99L / 100);
      assertThat(second.asks).isZero();
      assertThat(receiver.diskHits()).isGreaterThan(400);
    }
  }

  @Test
  void aFullPinBudgetSendsLiteralsInsteadOfRefs() {
    ChunkStore sender = ChunkStore.inMemory(64 << 20);
    ChunkStore receiver = ChunkStore.inMemory(64 << 20);
    byte[] data = DedupTestData.random(1 << 20, 104);
    new DedupLink(sender, receiver).transferAll(data, 64 * 1024, false);

    // No pump until the end, so no acks: the 128 KiB budget fills up.
    DedupEncoder encoder = new DedupEncoder(sender, ChunkingParams.DEFAULT, 128 * 1024);
    DedupLink second = new DedupLink(encoder, new DedupDecoder(receiver));
    second.send(data, 0, data.length);
    second.finish();
    second.pump();
    assertExact(second.received.toByteArray(), data);
    assertThat(encoder.refsDowngraded()).isPositive();
    assertThat(encoder.refBytes()).isBetween(1L, 128L * 1024);
    assertThat(encoder.pinnedBytes()).isZero();
  }

  @Test
  void tamperedOrInconsistentTokensAreRejected() {
    ChunkStore store = ChunkStore.inMemory(1 << 20);
    List<DedupToken> out = new java.util.ArrayList<>();
    DedupDecoder.Output sink = new DedupDecoder.Output() {
      @Override
      public void data(byte[] bytes, int offset, int length) {}

      @Override
      public void reply(DedupToken token) {
        out.add(token);
      }
    };
    byte[] chunk = DedupTestData.random(5000, 105);
    Fingerprint fp = new Fingerprinter().of(chunk);
    byte[] tampered = chunk.clone();
    tampered[10] ^= 1;

    DedupDecoder decoder = new DedupDecoder(store);
    assertThatThrownBy(() -> decoder.accept(new DedupToken.Literal(fp, 0, tampered), sink))
        .isInstanceOf(DedupException.class).hasMessageContaining("fingerprint");
    assertThat(store.contains(fp)).as("nothing stored from a bad literal").isFalse();

    DedupDecoder d2 = new DedupDecoder(store);
    d2.accept(new DedupToken.Raw(new byte[] {1, 2, 3}), sink);
    assertThatThrownBy(() -> d2.accept(new DedupToken.Literal(fp, 2, chunk), sink))
        .isInstanceOf(DedupException.class).hasMessageContaining("raw bytes");

    DedupDecoder d3 = new DedupDecoder(store);
    d3.accept(new DedupToken.Ref(fp, 5000), sink);
    assertThat(out).hasSize(1).first().isInstanceOf(DedupToken.Ask.class);
    assertThat(d3.waiting()).isTrue();
    assertThatThrownBy(() -> d3.accept(new DedupToken.Supply(fp, tampered), sink))
        .isInstanceOf(DedupException.class);
    assertThatThrownBy(() -> d3.accept(new DedupToken.Ack(1), sink)).isInstanceOf(DedupException.class);

    DedupEncoder encoder = new DedupEncoder(ChunkStore.inMemory(1 << 20));
    assertThatThrownBy(() -> encoder.onAsk(new DedupToken.Ask(fp), t -> {}))
        .isInstanceOf(DedupException.class).hasMessageContaining("never referenced");
    assertThatThrownBy(() -> encoder.onAck(new DedupToken.Ack(5))).isInstanceOf(DedupException.class);
  }
}
