package net.wanrelay.channel;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Stream bytes sent but not yet acknowledged by the peer, kept so they can be resent on a new
 * connection. Offsets are plain stream bytes from the start of the stream. The buffer holds
 * references to the buffers that were sent (no copy); it is bounded by the peer's window
 * because the peer acknowledges what it consumed and credit never exceeds the window.
 *
 * <p>Not thread-safe: owned by the stream's event loop.
 */
final class ReplayBuffer {
  private final ArrayDeque<ByteBuf> chunks = new ArrayDeque<>();
  private long start;
  private long end;
  private long copied;

  /** Offset of the first byte still held (everything before it was acknowledged). */
  long start() { return start; }
  /** Offset after the last byte sent. */
  long end() { return end; }
  /** Bytes held. */
  long size() { return end - start; }

  /**
   * Keeps {@code sent} (a reference the buffer now owns) as the next bytes of the stream. A small
   * piece of a much larger buffer (a short socket read into a large receive buffer) is copied
   * out instead, so what is held stays close to the bytes it stands for.
   */
  void append(ByteBuf sent) {
    int n = sent.readableBytes();
    if (n == 0) {
      sent.release();
      return;
    }
    ByteBuf root = sent;
    while (root.unwrap() != null) {
      root = root.unwrap();
    }
    if (root.capacity() > 2 * n + 4096) {
      ByteBuf copy = sent.alloc().directBuffer(n).writeBytes(sent, sent.readerIndex(), n);
      sent.release();
      sent = copy;
      copied += n;
    }
    chunks.add(sent);
    end += n;
  }

  /** Bytes copied because they were a small piece of a large buffer (a test hook). */
  long copiedBytes() { return copied; }

  /** The peer consumed everything before {@code offset}: releases those bytes. */
  void ack(long offset) {
    if (offset > end) {
      throw new IllegalArgumentException("ack " + offset + " beyond sent " + end);
    }
    while (start < offset) {
      ByteBuf head = chunks.peek();
      int n = head.readableBytes();
      if (start + n <= offset) {
        chunks.poll().release();
        start += n;
      } else {
        int skip = (int) (offset - start);
        head.skipBytes(skip);
        start += skip;
      }
    }
  }

  /**
   * Everything from {@code offset} on, to send again, in order; the caller owns the returned
   * buffers. The buffer is then empty and starts at {@code offset}.
   */
  List<ByteBuf> rewind(long offset) {
    if (offset < start || offset > end) {
      throw new IllegalArgumentException("rewind to " + offset + " outside [" + start + ", " + end + "]");
    }
    ack(offset);
    List<ByteBuf> out = new ArrayList<>(chunks);
    chunks.clear();
    end = offset;
    return out;
  }

  /** Releases everything (stream closed). */
  void release() {
    ByteBuf b;
    while ((b = chunks.poll()) != null) {
      b.release();
    }
    start = end;
  }
}
