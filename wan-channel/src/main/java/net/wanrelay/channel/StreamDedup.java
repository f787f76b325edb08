package net.wanrelay.channel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import java.util.List;
import java.util.function.Consumer;
import net.wanrelay.channel.dedup.ChunkStore;
import net.wanrelay.channel.dedup.ChunkingParams;
import net.wanrelay.channel.dedup.DedupDecoder;
import net.wanrelay.channel.dedup.DedupEncoder;
import net.wanrelay.channel.dedup.DedupException;
import net.wanrelay.channel.dedup.DedupMetrics;
import net.wanrelay.channel.dedup.DedupToken;
import net.wanrelay.channel.dedup.DedupTokenCodec;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.ProtocolViolation;

/**
 * The dedup state of one stream, both directions: an encoder that turns the bytes this side
 * sends into token payloads (one DATA frame each, whole tokens only), and a decoder that turns
 * the peer's token payloads back into bytes. Backward tokens (Ask, Ack) travel in DEDUP_REPLY
 * frames. Confined to the stream's event loop; holds no ByteBuf between calls except the token
 * payload being filled, released by {@link #close}.
 */
final class StreamDedup {
  /** Where finished payloads go; the receiver of each buffer owns it. */
  interface Sink {
    /** Forward token payload for a DATA frame (compress it if the stream compresses). */
    void data(ByteBuf tokens);

    /** Backward token payload for a DEDUP_REPLY frame. */
    void reply(ByteBuf tokens);
  }

  private final ByteBufAllocator alloc;
  private final int maxPayload;
  private final Sink sink;
  private final DedupEncoder encoder;
  private final DedupDecoder decoder;
  private final DedupTokenCodec codec;
  private final Consumer<DedupToken> forward = this::addForward;
  private ByteBuf payload;
  private boolean finished;
  private long encodedSinceFlush;

  StreamDedup(ChunkStore store, DedupSettings settings, DedupMetrics metrics, ByteBufAllocator alloc,
      int maxPayload, Sink sink) {
    this.alloc = alloc;
    this.maxPayload = maxPayload;
    this.sink = sink;
    ChunkingParams params = ChunkingParams.DEFAULT;
    this.encoder = new DedupEncoder(store, params, settings.maxPinnedBytes(), metrics);
    this.decoder = new DedupDecoder(store, params.maxSize(), settings.maxQueuedBytes(), metrics);
    this.codec = new DedupTokenCodec(params.maxSize());
  }

  // ---------------------------------------------------------------- send side

  /** Encodes plain stream bytes (the caller keeps ownership of {@code plain}). */
  void encode(ByteBuf plain) {
    encodedSinceFlush += plain.readableBytes();
    encoder.encode(plain, forward);
  }

  /** Sends the token payload built so far (whole chunks only: chunk boundaries stay put). */
  void emit() {
    if (payload != null && payload.isReadable()) {
      ByteBuf p = payload;
      payload = null;
      sink.data(p);
    }
  }

  /** Bytes encoded since the last {@link #flushTail}. */
  long encodedSinceFlush() {
    return encodedSinceFlush;
  }

  /** Sends the unfinished chunk's buffered bytes as Raw (after a pause in the stream). */
  void flushTail() {
    encodedSinceFlush = 0;
    encoder.flush(forward);
    emit();
  }

  /** End of stream: the last chunk goes out; call once before waiting for {@link #allAcked}. */
  void finish() {
    if (!finished) {
      finished = true;
      encoder.finish(forward);
      emit();
    }
  }

  /** True when no Ask can come any more (every Ref acknowledged): FIN may follow. */
  boolean allAcked() {
    return encoder.allRefsAcked();
  }

  /** A DEDUP_REPLY from the peer: Acks unpin, Asks are answered with Supply tokens (in DATA). */
  void onReply(ByteBuf tokens) {
    List<DedupToken> list = codec.readAll(tokens);
    for (DedupToken t : list) {
      if (!(t instanceof DedupToken.Ask || t instanceof DedupToken.Ack)) {
        throw new DedupException("unexpected " + t.getClass().getSimpleName() + " in a DEDUP_REPLY");
      }
      encoder.onReply(t, forward);
    }
    emit();
  }

  private void addForward(DedupToken t) {
    int need = DedupTokenCodec.maxEncodedLength(t);
    if (payload != null && payload.readableBytes() + need > maxPayload) {
      emit();
    }
    if (payload == null) {
      payload = alloc.buffer(Math.min(maxPayload, Math.max(need, 16 * 1024)));
    }
    DedupTokenCodec.write(t, payload);
  }

  // ---------------------------------------------------------------- receive side

  /**
   * Decodes one DATA payload of tokens into stream bytes (possibly empty while a chunk is awaited
   * or for a payload of Supply tokens). Output beyond {@code credit} is a flow-control violation.
   * Asks and the Ack go back at once through the sink. Does not release {@code tokens}.
   */
  ByteBuf decode(ByteBuf tokens, long credit, int streamId) {
    List<DedupToken> list = codec.readAll(tokens);
    CompositeByteBuf out = Unpooled.compositeBuffer(1024);
    ByteBuf[] replies = new ByteBuf[1];
    DedupDecoder.Output output = new DedupDecoder.Output() {
      @Override
      public void data(byte[] bytes, int offset, int length) {
        if ((long) out.readableBytes() + length > credit) {
          throw new ProtocolViolation(ErrorCode.FLOW_CONTROL, "window_overflow",
              "stream " + streamId + " decoded beyond its " + credit + " bytes of credit");
        }
        // The arrays are immutable and may be shared with the store: wrap, do not copy.
        out.addComponent(true, Unpooled.wrappedBuffer(bytes, offset, length));
      }

      @Override
      public void reply(DedupToken token) {
        if (replies[0] == null) {
          replies[0] = alloc.buffer(64);
        }
        DedupTokenCodec.write(token, replies[0]);
      }
    };
    try {
      for (DedupToken t : list) {
        decoder.accept(t, output);
      }
      DedupToken.Ack ack = decoder.pollAck();
      if (ack != null) {
        output.reply(ack);
      }
    } catch (RuntimeException e) {
      out.release();
      if (replies[0] != null) {
        replies[0].release();
      }
      throw e;
    }
    if (replies[0] != null) {
      sink.reply(replies[0]);
    }
    return out;
  }

  /** True while decoded output is held back waiting for a Supply. */
  boolean waiting() {
    return decoder.waiting();
  }

  void close() {
    if (payload != null) {
      payload.release();
      payload = null;
    }
  }
}
