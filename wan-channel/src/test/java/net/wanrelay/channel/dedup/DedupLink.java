package net.wanrelay.channel.dedup;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * One dedup stream between two stores, with every token going through the binary codec in both
 * directions and replies delivered one "round trip" later (at {@link #pump}), as over a trunk.
 */
final class DedupLink {
  final DedupEncoder encoder;
  final DedupDecoder decoder;
  final DedupTokenCodec codec = new DedupTokenCodec(ChunkingParams.DEFAULT.maxSize());
  final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private final List<DedupToken> forward = new ArrayList<>();
  private final List<DedupToken> backward = new ArrayList<>();
  long forwardWireBytes;
  long backwardWireBytes;
  long asks;

  private final DedupDecoder.Output output = new DedupDecoder.Output() {
    @Override
    public void data(byte[] bytes, int offset, int length) {
      received.write(bytes, offset, length);
    }

    @Override
    public void reply(DedupToken token) {
      backward.add(token);
    }
  };

  DedupLink(ChunkStore senderStore, ChunkStore receiverStore) {
    this(new DedupEncoder(senderStore), new DedupDecoder(receiverStore));
  }

  DedupLink(DedupEncoder encoder, DedupDecoder decoder) {
    this.encoder = encoder;
    this.decoder = decoder;
  }

  void send(byte[] data, int offset, int length) {
    encoder.encode(data, offset, length, forward::add);
  }

  void flush() {
    encoder.flush(forward::add);
  }

  void finish() {
    encoder.finish(forward::add);
  }

  /** Delivers tokens both ways until nothing is in flight. */
  void pump() {
    for (int rounds = 0; !forward.isEmpty() || !backward.isEmpty(); rounds++) {
      if (rounds > 1000) {
        throw new AssertionError("dedup link does not settle");
      }
      for (DedupToken t : transfer(forward, true)) {
        decoder.accept(t, output);
      }
      DedupToken.Ack ack = decoder.pollAck();
      if (ack != null) {
        backward.add(ack);
      }
      for (DedupToken t : transfer(backward, false)) {
        if (t instanceof DedupToken.Ask) {
          asks++;
        }
        encoder.onReply(t, forward::add);
      }
    }
  }

  /** Serializes and parses a batch, like one frame on the wire. */
  private List<DedupToken> transfer(List<DedupToken> tokens, boolean isForward) {
    ByteBuf wire = Unpooled.buffer();
    try {
      for (DedupToken t : tokens) {
        DedupTokenCodec.write(t, wire);
      }
      tokens.clear();
      if (isForward) {
        forwardWireBytes += wire.readableBytes();
      } else {
        backwardWireBytes += wire.readableBytes();
      }
      return codec.readAll(wire);
    } finally {
      wire.release();
    }
  }

  /** Sends all of {@code data} in pieces of {@code piece} bytes, pumping after each, then finishes. */
  byte[] transferAll(byte[] data, int piece, boolean flushEachPiece) {
    for (int off = 0; off < data.length; off += piece) {
      send(data, off, Math.min(piece, data.length - off));
      if (flushEachPiece) {
        flush();
      }
      pump();
    }
    finish();
    pump();
    return received.toByteArray();
  }
}
