package net.wanrelay.channel.dedup;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Turns {@link DedupToken}s back into the stream's bytes, in order. A {@link DedupToken.Ref} to a
 * chunk the store lacks (wiped, evicted, damaged) produces an {@link DedupToken.Ask} and holds the
 * output back, queuing later tokens, until the sender's {@link DedupToken.Supply} arrives. Refs
 * queued behind it are asked for at once, so several misses cost one round trip. Every literal
 * and supplied chunk is checked against its fingerprint before it is output or stored.
 *
 * <p>Not thread-safe: one per stream, on its event loop.
 */
public final class DedupDecoder {
  /** Where the decoder puts output bytes and backward tokens. */
  public interface Output {
    /** Stream bytes, in order. The array may be shared with the store: copy, never mutate. */
    void data(byte[] bytes, int offset, int length);

    /** A token for the sender (Ask; Acks come from {@link #pollAck()}). */
    void reply(DedupToken token);
  }

  private final ChunkStore store;
  private final DedupMetrics metrics;
  private final Fingerprinter fingerprinter = new Fingerprinter();
  private final int maxChunk;
  private final long maxQueuedBytes;

  /** Raw bytes of the unfinished chunk; allocated on the first Raw (most streams never flush mid-chunk). */
  private byte[] partial;
  private int partialLength;

  private final ArrayDeque<DedupToken> queue = new ArrayDeque<>();
  private long queuedBytes;
  private final Set<Fingerprint> asked = new HashSet<>();
  private final Map<Fingerprint, byte[]> supplied = new HashMap<>();

  private long resolvedRefs;
  private long ackedRefs;
  private long asks;
  private long outputBytes;
  private long lateSupplies;

  public DedupDecoder(ChunkStore store, int maxChunk, long maxQueuedBytes) {
    this(store, maxChunk, maxQueuedBytes, DedupMetrics.UNBOUND);
  }

  /**
   * @param store the receiver's store for this peer
   * @param maxChunk the largest chunk accepted (the sender's max chunk size)
   * @param maxQueuedBytes bound on token bytes held behind a missing chunk; flow control should keep
   *     it far lower, so exceeding it is a protocol error
   */
  public DedupDecoder(ChunkStore store, int maxChunk, long maxQueuedBytes, DedupMetrics metrics) {
    this.metrics = metrics;
    if (maxChunk < 1 || maxChunk > ChunkingParams.MAX_CHUNK_LIMIT) {
      throw new IllegalArgumentException("maxChunk must be in 1.." + ChunkingParams.MAX_CHUNK_LIMIT);
    }
    this.store = store;
    this.maxChunk = maxChunk;
    this.maxQueuedBytes = maxQueuedBytes;
  }

  public DedupDecoder(ChunkStore store) {
    this(store, ChunkingParams.DEFAULT.maxSize(), 16L << 20);
  }

  /** Handles one forward token. */
  public void accept(DedupToken token, Output out) {
    if (token instanceof DedupToken.Supply supply) {
      acceptSupply(supply);
      drain(out);
      return;
    }
    if (token instanceof DedupToken.Ask || token instanceof DedupToken.Ack) {
      throw new DedupException("unexpected " + token.getClass().getSimpleName() + " from the sender");
    }
    if (!queue.isEmpty()) {
      enqueue(token, out);
      return;
    }
    if (!process(token, out)) {
      enqueue(token, out);
    }
  }

  /** An Ack to send if Refs were resolved since the last one, else null. */
  public DedupToken.Ack pollAck() {
    if (resolvedRefs == ackedRefs) {
      return null;
    }
    ackedRefs = resolvedRefs;
    return new DedupToken.Ack(resolvedRefs);
  }

  /** True while output is held back waiting for a Supply. */
  public boolean waiting() {
    return !queue.isEmpty();
  }

  private void acceptSupply(DedupToken.Supply supply) {
    Fingerprint fp = supply.fingerprint();
    if (supply.data().length > maxChunk || !fingerprinter.matches(fp, supply.data())) {
      metrics.rejectedChunks.increment();
      throw new DedupException("supplied chunk does not match its fingerprint " + fp);
    }
    if (!asked.contains(fp)) {
      // A late answer: the chunk arrived as a literal meanwhile and its Ref was already resolved.
      lateSupplies++;
      return;
    }
    supplied.put(fp, supply.data());
    store.put(fp, supply.data());
  }

  private void enqueue(DedupToken token, Output out) {
    long size = token instanceof DedupToken.Literal l ? l.data().length
        : token instanceof DedupToken.Raw r ? r.data().length : 32;
    if (queuedBytes + size > maxQueuedBytes) {
      throw new DedupException("more than " + maxQueuedBytes + " bytes queued behind a missing chunk");
    }
    queuedBytes += size;
    queue.add(token);
    if (token instanceof DedupToken.Ref ref && !asked.contains(ref.fingerprint())
        && !supplied.containsKey(ref.fingerprint()) && !store.contains(ref.fingerprint())) {
      ask(ref.fingerprint(), out);
    }
  }

  private void drain(Output out) {
    while (!queue.isEmpty()) {
      DedupToken head = queue.peek();
      if (!process(head, out)) {
        return;
      }
      queue.poll();
      queuedBytes -= head instanceof DedupToken.Literal l ? l.data().length
          : head instanceof DedupToken.Raw r ? r.data().length : 32;
    }
  }

  /** Outputs a token's bytes; false when it is a Ref still waiting for its chunk. */
  private boolean process(DedupToken token, Output out) {
    if (token instanceof DedupToken.Raw raw) {
      byte[] data = raw.data();
      if (partialLength + data.length > maxChunk) {
        throw new DedupException("raw bytes exceed the chunk limit " + maxChunk);
      }
      if (partial == null) {
        partial = new byte[maxChunk];
      }
      System.arraycopy(data, 0, partial, partialLength, data.length);
      partialLength += data.length;
      emit(data, out);
      return true;
    }
    if (token instanceof DedupToken.Literal literal) {
      byte[] data = literal.data();
      if (literal.prefixLength() != partialLength) {
        throw new DedupException("literal continues " + literal.prefixLength()
            + " raw bytes but " + partialLength + " were received");
      }
      if (partialLength + data.length > maxChunk) {
        throw new DedupException("literal exceeds the chunk limit " + maxChunk);
      }
      byte[] whole;
      if (partialLength == 0) {
        whole = data;
      } else {
        whole = Arrays.copyOf(partial, partialLength + data.length);
        System.arraycopy(data, 0, whole, partialLength, data.length);
      }
      if (!fingerprinter.matches(literal.fingerprint(), whole)) {
        metrics.rejectedChunks.increment();
        throw new DedupException("literal does not match its fingerprint " + literal.fingerprint());
      }
      partialLength = 0;
      store.put(literal.fingerprint(), whole);
      emit(data, out);
      return true;
    }
    DedupToken.Ref ref = (DedupToken.Ref) token;
    if (partialLength != 0) {
      throw new DedupException("ref inside an unfinished chunk");
    }
    Fingerprint fp = ref.fingerprint();
    byte[] data = supplied.remove(fp);
    if (data == null) {
      data = store.get(fp);
    }
    if (data == null) {
      if (!asked.contains(fp)) {
        ask(fp, out);
      }
      return false;
    }
    if (data.length != ref.length()) {
      throw new DedupException("ref to " + fp + " says " + ref.length() + " bytes, chunk has " + data.length);
    }
    asked.remove(fp);
    resolvedRefs++;
    // Refresh: keeps the chunk recent here exactly as the sender did when it sent the Ref.
    store.put(fp, data);
    emit(data, out);
    return true;
  }

  private void ask(Fingerprint fp, Output out) {
    asked.add(fp);
    asks++;
    metrics.asks.increment();
    out.reply(new DedupToken.Ask(fp));
  }

  private void emit(byte[] data, Output out) {
    outputBytes += data.length;
    metrics.decodedBytes.add(data.length);
    out.data(data, 0, data.length);
  }

  public long asks() {
    return asks;
  }

  public long resolvedRefs() {
    return resolvedRefs;
  }

  /** Supplies that arrived after their Ref was resolved some other way. */
  public long lateSupplies() {
    return lateSupplies;
  }

  public long outputBytes() {
    return outputBytes;
  }
}
