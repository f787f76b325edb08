package net.wanrelay.channel.dedup;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import net.wanrelay.channel.compress.BlockCodec;
import net.wanrelay.channel.compress.CompressionCodec;

/**
 * Prints, on one thread: chunking and chunking+fingerprinting speed, encoder speed (cold store:
 * all literals; warm store: all refs), and the bytes on the wire for "first transfer", "same file
 * twice" and "1% changed", dedup alone vs. zstd alone vs. both. Not a test; run by hand:
 *
 * <pre>
 * ./mvnw -o -q -pl wan-channel test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 * java -cp "wan-channel/target/test-classes:wan-channel/target/classes:$(cat /tmp/cp.txt)" \
 *   net.wanrelay.channel.dedup.DedupBench [MiB]
 * </pre>
 */
public final class DedupBench {
  private static final ByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;
  private static final int BATCH = 64 * 1024;

  public static void main(String[] args) {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 32;
    byte[] random = DedupTestData.random(mib << 20, 1);
    byte[] text = text(mib << 20, 2);

    System.out.println("== speed, one thread, " + mib + " MiB of random data, best of 4 runs after a warm-up ==");
    java.util.Map<String, Double> best = new java.util.LinkedHashMap<>();
    for (int round = 0; round < 5; round++) {
      boolean measure = round > 0; // the first round warms up the JIT
      speed("chunking only", measure, best, random, data -> chunkOnly(data, false));
      speed("chunking + SHA-256", measure, best, random, data -> chunkOnly(data, true));
      ChunkStore sender = ChunkStore.inMemory(2L * random.length);
      speed("encoder, cold store (literals)", measure, best, random, data -> encode(sender, data));
      speed("encoder, warm store (refs)", measure, best, random, data -> encode(sender, data));
      speed("encoder, cold store, direct ByteBuf", measure, best, random,
          data -> encodeDirect(ChunkStore.inMemory(2L * data.length), data));
      ChunkStore receiver = ChunkStore.inMemory(2L * random.length);
      java.util.List<DedupToken> literals = tokens(ChunkStore.inMemory(2L * random.length), random);
      speed("decoder, literals (verify+store)", measure, best, random, data -> decode(receiver, literals));
      java.util.List<DedupToken> refs = tokens(sender, random);
      speed("decoder, refs (store lookups)", measure, best, random, data -> decode(receiver, refs));
    }
    best.forEach((name, mbps) -> System.out.printf("%-34s %8.0f MB/s %6.2f Gbit/s%n", name, mbps, mbps * 8 / 1000));

    System.out.println();
    System.out.println("== bytes on the wire, " + mib + " MiB per transfer (ratio = wire / plain) ==");
    System.out.printf("%-8s %-22s %10s %10s %10s%n", "data", "transfer", "dedup", "zstd-3", "dedup+zstd");
    for (String kind : new String[] {"text", "random"}) {
      byte[] original = kind.equals("text") ? text : random;
      byte[] changed = DedupTestData.edited(original, 20 * mib / 4, original.length / 100 / (20 * mib / 4), 3);
      ChunkStore sender = ChunkStore.inMemory(4L * original.length);
      ChunkStore receiver = ChunkStore.inMemory(4L * original.length);
      reduction(kind, "first transfer", original, sender, receiver);
      reduction(kind, "same file twice", original, sender, receiver);
      reduction(kind, "1% changed", changed, sender, receiver);
    }
  }

  private static void speed(String name, boolean measure, java.util.Map<String, Double> best, byte[] data,
      Consumer<byte[]> work) {
    long t0 = System.nanoTime();
    work.accept(data);
    long nanos = System.nanoTime() - t0;
    if (measure) {
      best.merge(name, data.length / 1e6 / (nanos / 1e9), Math::max);
    }
  }

  private static long sink;

  private static void chunkOnly(byte[] data, boolean fingerprint) {
    GearChunker chunker = new GearChunker(ChunkingParams.DEFAULT);
    Fingerprinter f = new Fingerprinter();
    int start = 0;
    int pos = 0;
    while (pos < data.length) {
      int n = Math.min(BATCH, data.length - pos);
      int cut = chunker.nextCut(data, pos, n);
      if (cut < 0) {
        pos += n;
        continue;
      }
      pos += cut;
      if (fingerprint) {
        sink += f.of(data, start, pos - start).low();
      }
      sink++;
      start = pos;
    }
  }

  private static void encode(ChunkStore store, byte[] data) {
    // Pins bounded as in production (32 MiB); no acks here, so later repeats become literals.
    DedupEncoder encoder = new DedupEncoder(store, ChunkingParams.DEFAULT, 32L << 20);
    for (int off = 0; off < data.length; off += BATCH) {
      encoder.encode(data, off, Math.min(BATCH, data.length - off), t -> sink++);
    }
    encoder.finish(t -> sink++);
  }

  private static void encodeDirect(ChunkStore store, byte[] data) {
    DedupEncoder encoder = new DedupEncoder(store, ChunkingParams.DEFAULT, 32L << 20);
    ByteBuf direct = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(BATCH);
    try {
      for (int off = 0; off < data.length; off += BATCH) {
        direct.clear().writeBytes(data, off, Math.min(BATCH, data.length - off));
        encoder.encode(direct, t -> sink++);
      }
      encoder.finish(t -> sink++);
    } finally {
      direct.release();
    }
  }

  private static java.util.List<DedupToken> tokens(ChunkStore store, byte[] data) {
    java.util.List<DedupToken> out = new java.util.ArrayList<>();
    DedupEncoder encoder = new DedupEncoder(store, ChunkingParams.DEFAULT, Long.MAX_VALUE);
    encoder.encode(data, 0, data.length, out::add);
    encoder.finish(out::add);
    return out;
  }

  private static void decode(ChunkStore store, java.util.List<DedupToken> tokens) {
    DedupDecoder decoder = new DedupDecoder(store, ChunkingParams.DEFAULT.maxSize(), 1L << 30);
    DedupDecoder.Output output = new DedupDecoder.Output() {
      @Override
      public void data(byte[] bytes, int offset, int length) {
        sink += length;
      }

      @Override
      public void reply(DedupToken token) {
        throw new IllegalStateException("bench stores never miss");
      }
    };
    for (DedupToken t : tokens) {
      decoder.accept(t, output);
    }
  }

  /** One transfer through a full link; prints wire bytes of dedup, zstd alone, and zstd over dedup. */
  private static void reduction(String kind, String name, byte[] data, ChunkStore sender, ChunkStore receiver) {
    DedupEncoder encoder = new DedupEncoder(sender, ChunkingParams.DEFAULT, Long.MAX_VALUE);
    DedupDecoder decoder = new DedupDecoder(receiver, ChunkingParams.DEFAULT.maxSize(), 1L << 30);
    long dedupWire = 0;
    long bothWire = 0;
    long zstdWire = 0;
    long[] out = new long[1];
    DedupDecoder.Output output = new DedupDecoder.Output() {
      @Override
      public void data(byte[] bytes, int offset, int length) {
        out[0] += length;
      }

      @Override
      public void reply(DedupToken token) {
        throw new IllegalStateException("bench stores never miss");
      }
    };
    for (int off = 0; off < data.length; off += BATCH) {
      int len = Math.min(BATCH, data.length - off);
      ByteBuf frame = Unpooled.buffer();
      encoder.encode(data, off, len, t -> DedupTokenCodec.write(t, frame));
      if (off + len == data.length) {
        encoder.finish(t -> DedupTokenCodec.write(t, frame));
      }
      dedupWire += frame.readableBytes();
      bothWire += compressedSize(frame.copy());
      for (DedupToken t : new DedupTokenCodec().readAll(frame)) {
        decoder.accept(t, output);
      }
      frame.release();
      zstdWire += compressedSize(Unpooled.wrappedBuffer(data, off, len));
      DedupToken.Ack ack = decoder.pollAck();
      if (ack != null) {
        encoder.onAck(ack);
      }
    }
    if (out[0] != data.length) {
      throw new IllegalStateException("decoded " + out[0] + " of " + data.length + " bytes");
    }
    System.out.printf("%-8s %-22s %10.4f %10.4f %10.4f%n", kind, name,
        (double) dedupWire / data.length, (double) zstdWire / data.length, (double) bothWire / data.length);
  }

  /** zstd-3 block size, or the plain size when zstd does not help (as the adaptive sender does). */
  private static long compressedSize(ByteBuf plain) {
    int plainLength = plain.readableBytes();
    if (plainLength == 0) {
      plain.release();
      return 0;
    }
    ByteBuf c = BlockCodec.encode(ALLOC, CompressionCodec.ZSTD, 3, plain);
    try {
      return Math.min(plainLength, c.readableBytes());
    } finally {
      c.release();
    }
  }

  /** Log-like text: repetitive vocabulary, unique numbers. */
  private static byte[] text(int size, long seed) {
    String[] words = {"GET", "POST", "/api/v1/orders", "/static/app.js", "200", "404", "user", "session",
        "relay", "trunk", "stream", "window", "latency", "INFO", "WARN", "connection", "closed", "bytes"};
    SplittableRandom random = new SplittableRandom(seed);
    StringBuilder sb = new StringBuilder(size + 200);
    while (sb.length() < size) {
      sb.append(random.nextInt(1_000_000_000)).append(' ');
      for (int i = 0; i < 8; i++) {
        sb.append(words[random.nextInt(words.length)]).append(' ');
      }
      sb.append(random.nextInt(100_000)).append('\n');
    }
    byte[] all = sb.toString().getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[size];
    System.arraycopy(all, 0, out, 0, size);
    return out;
  }
}
