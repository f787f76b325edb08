package net.wanrelay.channel.dedup;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns one stream's bytes into {@link DedupToken}s: chunks the sender's store holds (and so,
 * it believes, the receiver holds) become {@link DedupToken.Ref}s, the rest {@link
 * DedupToken.Literal}s, which the store then remembers.
 *
 * <p>A lost or different receiver store must never lose data, so the bytes of every Ref are pinned
 * here until the receiver's {@link DedupToken.Ack} says it resolved that Ref; an {@link
 * DedupToken.Ask} is answered from the pins with a {@link DedupToken.Supply}. Pins are bounded by
 * {@code maxPinnedBytes}; at the bound, repeated chunks go out as Literals instead (no stall).
 *
 * <p>{@link #flush} sends the bytes of the unfinished chunk as a {@link DedupToken.Raw} without
 * cutting it, so interactive traffic is not delayed and chunk boundaries stay independent of how
 * the stream was read. Not thread-safe: one per stream, on its event loop.
 */
public final class DedupEncoder {
  /** Chunks shorter than this are always sent as literals (a Ref would save nothing). */
  static final int MIN_REF_LENGTH = 64;
  private static final int SLICE = 8 * 1024;

  private final ChunkStore store;
  private final DedupMetrics metrics;
  private final GearChunker chunker;
  private final Fingerprinter fingerprinter = new Fingerprinter();
  private final long maxPinnedBytes;
  private final byte[] chunk;
  private int chunkLength;
  /** Leading bytes of the current chunk already sent as Raw. */
  private int rawSent;

  private final ArrayDeque<PinnedRef> pinQueue = new ArrayDeque<>();
  private final Map<Fingerprint, Pin> pins = new HashMap<>();
  private long pinnedBytes;
  private long refsSent;
  private long refsAcked;

  private long plainBytes;
  private long literalBytes;
  private long refBytes;
  private long rawBytes;
  private long supplyBytes;
  private long refsDowngraded;

  private record PinnedRef(long seq, Fingerprint fp) {}

  private static final class Pin {
    final byte[] data;
    int count;

    Pin(byte[] data) {
      this.data = data;
    }
  }

  public DedupEncoder(ChunkStore store, ChunkingParams params, long maxPinnedBytes) {
    this(store, params, maxPinnedBytes, DedupMetrics.UNBOUND);
  }

  /**
   * @param store the sender's store for this peer (its contents are taken as what the peer holds)
   * @param maxPinnedBytes bytes of referenced chunks kept until the receiver acknowledges them
   */
  public DedupEncoder(ChunkStore store, ChunkingParams params, long maxPinnedBytes, DedupMetrics metrics) {
    this.store = store;
    this.metrics = metrics;
    this.chunker = new GearChunker(params);
    this.maxPinnedBytes = maxPinnedBytes;
    this.chunk = new byte[params.maxSize()];
  }

  public DedupEncoder(ChunkStore store) {
    this(store, ChunkingParams.DEFAULT, 32L << 20);
  }

  /** Encodes all readable bytes of {@code in} (advancing its reader index; not released). */
  public void encode(ByteBuf in, Consumer<DedupToken> out) {
    while (in.isReadable()) {
      int n = Math.min(in.readableBytes(), chunk.length - chunkLength);
      int cut;
      if (in.hasArray()) {
        // Heap: find the cut in place, then copy exactly the bytes of the current chunk.
        cut = chunker.nextCut(in, in.readerIndex(), n);
      } else {
        // Direct: a bulk copy plus an array scan beats a per-byte walk of native memory; bytes
        // copied past the cut are simply copied again next round (at most one slice per chunk).
        n = Math.min(n, SLICE);
        in.getBytes(in.readerIndex(), chunk, chunkLength, n);
        cut = chunker.nextCut(chunk, chunkLength, n);
      }
      int used = cut < 0 ? n : cut;
      if (in.hasArray()) {
        in.readBytes(chunk, chunkLength, used);
      } else {
        in.skipBytes(used);
      }
      chunkLength += used;
      plainBytes += used;
      metrics.plainBytes.add(used);
      if (cut >= 0) {
        emitChunk(out);
      }
    }
  }

  public void encode(byte[] data, int offset, int length, Consumer<DedupToken> out) {
    encode(Unpooled.wrappedBuffer(data, offset, length), out);
  }

  /** Sends what is buffered of the unfinished chunk as Raw; the chunk itself continues. */
  public void flush(Consumer<DedupToken> out) {
    if (chunkLength > rawSent) {
      byte[] raw = Arrays.copyOfRange(chunk, rawSent, chunkLength);
      rawSent = chunkLength;
      rawBytes += raw.length;
      metrics.rawBytes.add(raw.length);
      out.accept(new DedupToken.Raw(raw));
    }
  }

  /** End of stream: the unfinished chunk becomes the last chunk. */
  public void finish(Consumer<DedupToken> out) {
    if (chunkLength > 0) {
      emitChunk(out);
    }
    chunker.reset();
  }

  private void emitChunk(Consumer<DedupToken> out) {
    int length = chunkLength;
    Fingerprint fp = fingerprinter.of(chunk, 0, length);
    int prefix = rawSent;
    chunkLength = 0;
    rawSent = 0;
    if (prefix == 0 && length >= MIN_REF_LENGTH && store.contains(fp)) {
      byte[] pinned = pin(fp, length);
      if (pinned != null) {
        refBytes += length;
        metrics.refBytes.add(length);
        out.accept(new DedupToken.Ref(fp, length));
        // The receiver refreshes the chunk when it resolves the Ref; do the same so both stores
        // keep evicting the same chunks.
        store.put(fp, pinned);
        return;
      }
      refsDowngraded++;
      metrics.refsDowngraded.increment();
    }
    literalBytes += length - prefix;
    metrics.literalBytes.add(length - prefix);
    byte[] whole = Arrays.copyOf(chunk, length);
    // The token and the store share the array: neither mutates it.
    byte[] literal = prefix == 0 ? whole : Arrays.copyOfRange(chunk, prefix, length);
    out.accept(new DedupToken.Literal(fp, prefix, literal));
    store.put(fp, whole);
  }

  /** Pins the current chunk for a Ref; returns its bytes, or null when over the pin budget. */
  private byte[] pin(Fingerprint fp, int length) {
    Pin pin = pins.get(fp);
    if (pin == null) {
      if (pinnedBytes + length > maxPinnedBytes) {
        return null;
      }
      pin = new Pin(Arrays.copyOf(chunk, length));
      pins.put(fp, pin);
      pinnedBytes += length;
    }
    pin.count++;
    pinQueue.add(new PinnedRef(refsSent++, fp));
    return pin.data;
  }

  /** The receiver resolved its first {@code ack.resolvedRefs()} Refs: unpin them. */
  public void onAck(DedupToken.Ack ack) {
    long resolved = ack.resolvedRefs();
    if (resolved > refsSent) {
      throw new DedupException("peer acknowledged " + resolved + " refs, only " + refsSent + " were sent");
    }
    if (resolved < refsAcked) {
      return; // stale (reordered) ack
    }
    refsAcked = resolved;
    while (!pinQueue.isEmpty() && pinQueue.peek().seq() < resolved) {
      Fingerprint fp = pinQueue.poll().fp();
      Pin pin = pins.get(fp);
      if (--pin.count == 0) {
        pins.remove(fp);
        pinnedBytes -= pin.data.length;
      }
    }
  }

  /** Answers the receiver's request for a chunk it lacks. */
  public void onAsk(DedupToken.Ask ask, Consumer<DedupToken> out) {
    Pin pin = pins.get(ask.fingerprint());
    byte[] data = pin != null ? pin.data : store.get(ask.fingerprint());
    if (data == null) {
      throw new DedupException("peer asked for chunk " + ask.fingerprint() + " that this stream never referenced");
    }
    supplyBytes += data.length;
    metrics.supplyBytes.add(data.length);
    out.accept(new DedupToken.Supply(ask.fingerprint(), data));
  }

  /** Routes a backward token (Ask or Ack) from the receiver. */
  public void onReply(DedupToken token, Consumer<DedupToken> out) {
    if (token instanceof DedupToken.Ask ask) {
      onAsk(ask, out);
    } else if (token instanceof DedupToken.Ack ack) {
      onAck(ack);
    } else {
      throw new DedupException("unexpected " + token.getClass().getSimpleName() + " from the receiver");
    }
  }

  /** Plain bytes consumed. */
  public long plainBytes() {
    return plainBytes;
  }

  /** Plain bytes sent inside Literals (excluding the Raw prefixes). */
  public long literalBytes() {
    return literalBytes;
  }

  /** Plain bytes replaced by Refs. */
  public long refBytes() {
    return refBytes;
  }

  /** Plain bytes sent early as Raw. */
  public long rawBytes() {
    return rawBytes;
  }

  /** Bytes resent in answer to Asks. */
  public long supplyBytes() {
    return supplyBytes;
  }

  /** Repeated chunks sent as literals because the pin budget was full. */
  public long refsDowngraded() {
    return refsDowngraded;
  }

  public long pinnedBytes() {
    return pinnedBytes;
  }

  /** True when the receiver acknowledged every Ref sent (nothing pinned, no Ask can come). */
  public boolean allRefsAcked() {
    return refsAcked == refsSent;
  }

  public long refsSent() {
    return refsSent;
  }
}
