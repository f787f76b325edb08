package net.wanrelay.channel.dedup;

/**
 * The messages of the de-duplication model. Forward (sender to receiver, in stream order):
 * {@link Literal}, {@link Ref}, {@link Raw}, {@link Supply}. Backward (receiver to sender):
 * {@link Ask}, {@link Ack}. Byte arrays are owned by the token once built; nobody mutates them.
 */
public sealed interface DedupToken {

  /**
   * Plain bytes that end a chunk. The chunk is the last {@code prefixLength} bytes already delivered
   * by {@link Raw} tokens since the previous chunk, followed by {@code data}; the receiver checks it
   * against {@code fingerprint} and stores it. {@code prefixLength} is 0 unless the sender flushed
   * part of this chunk early.
   */
  record Literal(Fingerprint fingerprint, int prefixLength, byte[] data) implements DedupToken {}

  /** "Output the chunk you hold as {@code fingerprint}" ({@code length} bytes). */
  record Ref(Fingerprint fingerprint, int length) implements DedupToken {}

  /**
   * Plain bytes of a chunk that is not finished yet, sent early because the writer flushed (an
   * interactive protocol waits for them). The chunk they belong to is completed by a Literal.
   */
  record Raw(byte[] data) implements DedupToken {}

  /** The sender's answer to an {@link Ask}: the chunk's bytes, not part of the stream's output. */
  record Supply(Fingerprint fingerprint, byte[] data) implements DedupToken {}

  /** "I do not hold this chunk (any more); send its bytes." */
  record Ask(Fingerprint fingerprint) implements DedupToken {}

  /** "I have resolved the first {@code resolvedRefs} Refs of this stream"; the sender unpins them. */
  record Ack(long resolvedRefs) implements DedupToken {}
}
