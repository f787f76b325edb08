package net.wanrelay.channel.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GearChunkerTest {
  /** Chunk lengths of {@code data}, fed in slices of random sizes up to {@code maxSlice}. */
  static List<Integer> chunkLengths(ChunkingParams params, byte[] data, int maxSlice, long seed) {
    GearChunker chunker = new GearChunker(params);
    SplittableRandom random = new SplittableRandom(seed);
    List<Integer> lengths = new ArrayList<>();
    int chunkStart = 0;
    int pos = 0;
    while (pos < data.length) {
      int n = Math.min(data.length - pos, 1 + random.nextInt(maxSlice));
      int cut = chunker.nextCut(data, pos, n);
      if (cut < 0) {
        pos += n;
      } else {
        pos += cut;
        lengths.add(pos - chunkStart);
        chunkStart = pos;
      }
    }
    if (chunkStart < data.length) {
      lengths.add(data.length - chunkStart);
    }
    return lengths;
  }

  static Set<String> chunkSet(byte[] data) {
    Fingerprinter f = new Fingerprinter();
    Set<String> set = new HashSet<>();
    int off = 0;
    for (int len : chunkLengths(ChunkingParams.DEFAULT, data, 1 << 20, 1)) {
      set.add(f.of(data, off, len).toString());
      off += len;
    }
    return set;
  }

  @Test
  void chunkSizesStayWithinBoundsAndAverageNearTarget() {
    byte[] data = DedupTestData.random(4 << 20, 1);
    List<Integer> lengths = chunkLengths(ChunkingParams.DEFAULT, data, 1 << 20, 2);
    assertThat(lengths.stream().mapToInt(Integer::intValue).sum()).isEqualTo(data.length);
    for (int i = 0; i < lengths.size() - 1; i++) {
      assertThat(lengths.get(i)).isBetween(2048, 65536);
    }
    double average = (double) data.length / lengths.size();
    assertThat(average).isBetween(8192 * 0.7, 8192 * 1.5);
  }

  @Test
  void boundariesDoNotDependOnHowTheStreamIsSliced() {
    byte[] data = DedupTestData.random(1 << 20, 3);
    List<Integer> whole = chunkLengths(ChunkingParams.DEFAULT, data, Integer.MAX_VALUE, 4);
    assertThat(chunkLengths(ChunkingParams.DEFAULT, data, 1, 5)).isEqualTo(whole);
    assertThat(chunkLengths(ChunkingParams.DEFAULT, data, 100, 6)).isEqualTo(whole);
    assertThat(chunkLengths(ChunkingParams.DEFAULT, data, 9000, 7)).isEqualTo(whole);
  }

  @Test
  void byteBufInputCutsExactlyLikeArrays() {
    byte[] data = DedupTestData.random(1 << 20, 12);
    List<Integer> expected = chunkLengths(ChunkingParams.DEFAULT, data, 1 << 20, 13);
    io.netty.buffer.ByteBuf direct = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(data.length).writeBytes(data);
    io.netty.buffer.CompositeByteBuf composite = io.netty.buffer.Unpooled.compositeBuffer();
    composite.addComponent(true, io.netty.buffer.Unpooled.directBuffer().writeBytes(data, 0, 300_001));
    composite.addComponent(true, io.netty.buffer.Unpooled.wrappedBuffer(data, 300_001, data.length - 300_001));
    try {
      for (io.netty.buffer.ByteBuf buf : List.of(direct, composite, io.netty.buffer.Unpooled.wrappedBuffer(data))) {
        for (int maxSlice : new int[] {97, 5000, 1 << 20}) {
          GearChunker chunker = new GearChunker(ChunkingParams.DEFAULT);
          SplittableRandom random = new SplittableRandom(maxSlice);
          List<Integer> lengths = new ArrayList<>();
          int chunkStart = 0;
          int pos = 0;
          while (pos < data.length) {
            int n = Math.min(data.length - pos, 1 + random.nextInt(maxSlice));
            int cut = chunker.nextCut(buf, pos, n);
            if (cut < 0) {
              pos += n;
            } else {
              pos += cut;
              lengths.add(pos - chunkStart);
              chunkStart = pos;
            }
          }
          if (chunkStart < data.length) {
            lengths.add(data.length - chunkStart);
          }
          assertThat(lengths).as("%s, slices up to %d", buf.getClass().getSimpleName(), maxSlice).isEqualTo(expected);
        }
      }
    } finally {
      direct.release();
      composite.release();
    }
  }

  @Test
  void anInsertionChangesOnlyTheChunksNearIt() {
    byte[] data = DedupTestData.random(2 << 20, 8);
    Set<String> before = chunkSet(data);
    for (int insertAt : new int[] {0, 12345, 1 << 20, (2 << 20) - 5}) {
      byte[] shifted = new byte[data.length + 100];
      System.arraycopy(data, 0, shifted, 0, insertAt);
      System.arraycopy(DedupTestData.random(100, insertAt), 0, shifted, insertAt, 100);
      System.arraycopy(data, insertAt, shifted, insertAt + 100, data.length - insertAt);
      Set<String> after = chunkSet(shifted);
      Set<String> changed = new HashSet<>(after);
      changed.removeAll(before);
      assertThat(changed.size()).as("new chunks after inserting at %d", insertAt).isBetween(1, 3);
      assertThat(after.size()).isBetween(before.size() - 3, before.size() + 3);
    }
  }

  @Test
  void uniformDataIsCutAtTheMaximum() {
    byte[] zeros = new byte[300_000];
    List<Integer> lengths = chunkLengths(ChunkingParams.DEFAULT, zeros, 5000, 9);
    assertThat(lengths.subList(0, 4)).containsOnly(65536);
  }

  @Test
  void otherAveragesWork() {
    byte[] data = DedupTestData.random(2 << 20, 10);
    for (int avg : new int[] {1024, 4096, 16384, 65536}) {
      ChunkingParams params = ChunkingParams.ofAverage(avg);
      List<Integer> lengths = chunkLengths(params, data, 1 << 16, 11);
      double average = (double) data.length / lengths.size();
      assertThat(average).as("avg %d", avg).isBetween(avg * 0.7, avg * 1.5);
    }
    assertThatThrownBy(() -> new ChunkingParams(2048, 6000, 65536)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ChunkingParams(2048, 8192, 4 << 20)).isInstanceOf(IllegalArgumentException.class);
  }
}
