package net.wanrelay.channel.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkStoreTest {
  @TempDir Path dir;
  final Fingerprinter fingerprinter = new Fingerprinter();

  record Chunk(Fingerprint fp, byte[] data) {}

  List<Chunk> chunks(int count, int size, long seed) {
    List<Chunk> list = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] data = DedupTestData.random(size, seed * 1000 + i);
      list.add(new Chunk(fingerprinter.of(data), data));
    }
    return list;
  }

  static ChunkStore.Config diskOnly(long diskBytes, long segmentBytes) {
    // A tiny memory tier, so reads come from disk.
    return new ChunkStore.Config(1, diskBytes, segmentBytes, 65536);
  }

  List<Path> segments() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
    }
  }

  @Test
  void memoryTierEvictsLeastRecentlyUsedByBytes() {
    ChunkStore store = ChunkStore.inMemory(10_000);
    List<Chunk> c = chunks(4, 3000, 1);
    store.put(c.get(0).fp(), c.get(0).data());
    store.put(c.get(1).fp(), c.get(1).data());
    store.put(c.get(2).fp(), c.get(2).data());
    assertThat(store.get(c.get(0).fp())).isEqualTo(c.get(0).data()); // 0 is now most recent
    store.put(c.get(3).fp(), c.get(3).data()); // 12000 > 10000: evicts 1
    assertThat(store.contains(c.get(1).fp())).isFalse();
    assertThat(store.get(c.get(1).fp())).isNull();
    assertThat(store.contains(c.get(0).fp())).isTrue();
    assertThat(store.contains(c.get(3).fp())).isTrue();
    assertThat(store.memoryBytes()).isEqualTo(9000);
    assertThat(store.memoryHits()).isEqualTo(1);
    assertThat(store.misses()).isEqualTo(1);
  }

  @Test
  void survivesCloseAndReopen() {
    List<Chunk> c = chunks(50, 5000, 2);
    try (ChunkStore store = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      c.forEach(k -> store.put(k.fp(), k.data()));
      assertThat(store.diskChunks()).isEqualTo(50);
    }
    try (ChunkStore store = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      assertThat(store.diskChunks()).isEqualTo(50);
      for (Chunk k : c) {
        assertThat(store.contains(k.fp())).isTrue();
        assertThat(store.get(k.fp())).isEqualTo(k.data());
      }
      assertThat(store.diskHits()).isEqualTo(50);
      // appends after reopen go to a new segment and survive the next reopen too
      List<Chunk> more = chunks(5, 5000, 3);
      more.forEach(k -> store.put(k.fp(), k.data()));
    }
    try (ChunkStore store = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      assertThat(store.diskChunks()).isEqualTo(55);
      assertThat(store.diskSegments()).isEqualTo(2);
    }
  }

  @Test
  void corruptDataIsAMissNeverWrongBytes() throws IOException {
    List<Chunk> c = chunks(20, 4000, 4);
    try (ChunkStore store = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      c.forEach(k -> store.put(k.fp(), k.data()));
    }
    Path segment = segments().get(0);
    // Flip one byte inside the data of the 6th record (header 28 + 4000 data each).
    long pos = 5L * (SegmentChunkTier.HEADER + 4000) + SegmentChunkTier.HEADER + 123;
    flipByte(segment, pos);
    try (ChunkStore store = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      for (int i = 0; i < c.size(); i++) {
        byte[] got = store.get(c.get(i).fp());
        if (i == 5) {
          assertThat(got).isNull();
        } else {
          assertThat(got).isEqualTo(c.get(i).data());
        }
      }
      assertThat(store.corruptChunks()).isEqualTo(1);
      assertThat(store.contains(c.get(5).fp())).as("dropped from the index").isFalse();
    }
  }

  @Test
  void aDamagedHeaderOrTornTailHidesOnlyWhatFollowsIt() throws IOException {
    List<Chunk> c = chunks(10, 4000, 5);
    try (ChunkStore store = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      c.forEach(k -> store.put(k.fp(), k.data()));
    }
    Path segment = segments().get(0);
    long record = SegmentChunkTier.HEADER + 4000;
    flipByte(segment, 7 * record + 10); // fingerprint bytes of record 7: header crc fails
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.truncate(9 * record + 100); // torn last record
    }
    try (ChunkStore store = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      assertThat(store.damagedSegmentsOnOpen()).isEqualTo(1);
      assertThat(store.diskChunks()).isEqualTo(7);
      for (int i = 0; i < 7; i++) {
        assertThat(store.get(c.get(i).fp())).isEqualTo(c.get(i).data());
      }
      for (int i = 7; i < 10; i++) {
        assertThat(store.get(c.get(i).fp())).isNull();
      }
    }
  }

  @Test
  void aMissingSegmentFileIsAMiss() throws IOException {
    List<Chunk> c = chunks(3, 4000, 6);
    try (ChunkStore store = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      c.forEach(k -> store.put(k.fp(), k.data()));
      // Someone truncates the file under a running store.
      try (FileChannel ch = FileChannel.open(segments().get(0), StandardOpenOption.WRITE)) {
        ch.truncate(100);
      }
      assertThat(store.get(c.get(2).fp())).isNull();
      assertThat(store.diskErrors()).isEqualTo(1);
      assertThat(store.diskDisabled()).isFalse();
    }
  }

  @Test
  void dropsOldestSegmentsAtTheSizeCap() throws IOException {
    long record = SegmentChunkTier.HEADER + 4000;
    long segmentBytes = 10 * record; // 10 chunks per segment
    try (ChunkStore store = ChunkStore.open(dir, new ChunkStore.Config(1, 40 * record, segmentBytes, 4000))) {
      List<Chunk> c = chunks(100, 4000, 7);
      c.forEach(k -> store.put(k.fp(), k.data()));
      assertThat(store.diskBytes()).isLessThanOrEqualTo(40 * record);
      assertThat(segments()).hasSize(store.diskSegments());
      assertThat(store.diskSegments()).isEqualTo(4);
      assertThat(store.contains(c.get(0).fp())).isFalse();
      assertThat(store.get(c.get(59).fp())).isNull();
      for (int i = 60; i < 100; i++) {
        assertThat(store.get(c.get(i).fp())).isEqualTo(c.get(i).data());
      }
    }
  }

  @Test
  void aChunkInUseIsRewrittenBeforeItsSegmentIsDropped() {
    long record = SegmentChunkTier.HEADER + 4000;
    try (ChunkStore store = ChunkStore.open(dir, new ChunkStore.Config(1, 40 * record, 10 * record, 4000))) {
      List<Chunk> c = chunks(100, 4000, 10);
      Chunk hot = c.get(0);
      for (int i = 0; i < c.size(); i++) {
        store.put(c.get(i).fp(), c.get(i).data());
        if (i % 10 == 5) {
          store.put(hot.fp(), hot.data()); // referenced again: refresh
        }
      }
      assertThat(store.contains(c.get(1).fp())).isFalse();
      assertThat(store.get(hot.fp())).isEqualTo(hot.data());
      assertThat(store.diskBytes()).isLessThanOrEqualTo(40 * record);
    }
  }

  @Test
  void aFullDiskDisablesTheDiskTierWithoutFailing() {
    SegmentChunkTier.ChannelOpener fullDisk = (path, write) -> write
        ? FileChannel.open(Path.of("/dev/full"), StandardOpenOption.WRITE, StandardOpenOption.READ)
        : SegmentChunkTier.FILES.open(path, false);
    List<Chunk> c = chunks(3, 4000, 8);
    try (ChunkStore store = ChunkStore.open(dir, new ChunkStore.Config(1 << 20, 10 << 20, 1 << 20, 65536), fullDisk)) {
      for (Chunk k : c) {
        store.put(k.fp(), k.data());
      }
      assertThat(store.diskDisabled()).isTrue();
      assertThat(store.diskErrors()).isEqualTo(1);
      for (Chunk k : c) {
        assertThat(store.get(k.fp())).as("still served from memory").isEqualTo(k.data());
      }
    }
  }

  @Test
  void aDirectoryIsUsedByOneStoreAtATime() {
    Chunk k = chunks(1, 1000, 11).get(0);
    try (ChunkStore first = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      first.put(k.fp(), k.data());
      try (ChunkStore second = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
        assertThat(second.diskDisabled()).isTrue();
        assertThat(second.contains(k.fp())).isFalse();
      }
      assertThat(first.diskDisabled()).isFalse();
      assertThat(first.get(k.fp())).isEqualTo(k.data());
    }
    try (ChunkStore again = ChunkStore.open(dir, diskOnly(10 << 20, 1 << 20))) {
      assertThat(again.diskDisabled()).isFalse();
      assertThat(again.get(k.fp())).isEqualTo(k.data());
    }
  }

  @Test
  void anUnusableDirectoryGivesAMemoryOnlyStore() throws IOException {
    Path file = dir.resolve("not-a-directory");
    Files.write(file, new byte[] {1});
    try (ChunkStore store = ChunkStore.open(file, ChunkStore.Config.of(1 << 20, 10 << 20))) {
      assertThat(store.diskDisabled()).isTrue();
      Chunk k = chunks(1, 100, 9).get(0);
      store.put(k.fp(), k.data());
      assertThat(store.get(k.fp())).isEqualTo(k.data());
    }
  }

  private static void flipByte(Path file, long position) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, position);
      b.put(0, (byte) (b.get(0) ^ 0x5a));
      b.rewind();
      ch.write(b, position);
    }
  }
}
