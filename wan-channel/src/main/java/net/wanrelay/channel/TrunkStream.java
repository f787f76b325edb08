package net.wanrelay.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.wanrelay.channel.dedup.DedupException;
import net.wanrelay.channel.compress.AdaptiveCompressor;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameType;
import net.wanrelay.channel.frame.Frames;
import net.wanrelay.channel.frame.OpenRequest;
import net.wanrelay.channel.frame.ProtocolViolation;
import net.wanrelay.channel.frame.Resume;
import net.wanrelay.channel.frame.StreamProtocol;

/**
 * One multiplexed stream (a TCP session or a UDP flow) on a {@link TrunkConnection}.
 *
 * <p>Confined to the connection's event loop: every method must be called there (use
 * {@link #eventLoop()}). Sending is credit-based: {@link #write} sends DATA within the credit
 * the peer granted and keeps the rest pending; callers should only read more from their source
 * while {@link #isWritable()} and resume on {@link StreamListener#onWritable}. Receiving: data
 * is handed to the listener and counts as buffered until {@link #consumed(int)} reports it
 * written out, which returns credit (and grows the window toward the bandwidth-delay product).
 */
public final class TrunkStream {
  private enum State { OPENING, OPEN, CLOSED }

  private static final Object FIN_MARKER = new Object();

  // Changes only when a suspended stream moves to a replacement connection (resume).
  private volatile TrunkConnection connection;
  private final int id;
  private final OpenRequest request;
  private final boolean local;
  private StreamListener listener;
  private State state;

  // Send side.
  private long sendCredit;
  private final ArrayDeque<ByteBuf> pending = new ArrayDeque<>(2);
  private long pendingBytes;
  private boolean finRequested;
  private boolean finSent;
  private boolean stalled;
  private final AdaptiveCompressor compressor;
  private StreamDedup dedup;
  private boolean dedupFlushScheduled;

  // Receive side.
  private int recvWindow;
  private long recvGranted;
  private long recvReceived;
  private long recvConsumed;
  private long unackedConsumed;
  private long epochStartNanos;
  private long epochConsumed;
  private boolean finReceived;
  private ArrayDeque<Object> held;

  private long lastActivityNanos;
  private Runnable whenClosed;

  // Resumption: sent bytes kept until the peer consumed them; null when the connection does not
  // resume streams (or for UDP flows and dedup streams, which are reset when the connection goes).
  private ReplayBuffer replay;
  private boolean suspended;
  private long suspendedAtNanos;
  private long resendLeft;

  TrunkStream(TrunkConnection connection, int id, OpenRequest request, boolean local,
      StreamListener listener, long sendCredit, int recvWindow, AdaptiveCompressor compressor) {
    this.connection = connection;
    this.id = id;
    this.request = request;
    this.local = local;
    this.listener = listener;
    this.state = State.OPENING;
    this.sendCredit = sendCredit;
    this.recvWindow = recvWindow;
    this.recvGranted = recvWindow;
    this.compressor = compressor;
    this.epochStartNanos = System.nanoTime();
    this.lastActivityNanos = epochStartNanos;
    if (connection.resumeNegotiated() && request.protocol() == StreamProtocol.TCP) {
      this.replay = new ReplayBuffer();
    }
  }

  public int id() { return id; }
  public OpenRequest request() { return request; }
  public StreamProtocol protocol() { return request.protocol(); }
  public TrunkConnection connection() { return connection; }
  public EventLoop eventLoop() { return connection.eventLoop(); }
  /** True when this side opened the stream. */
  public boolean isLocal() { return local; }
  public boolean isClosed() { return state == State.CLOSED; }
  /** Received bytes not yet reported written out. */
  public long bufferedBytes() { return recvReceived - recvConsumed; }
  /** Bytes accepted by {@link #write} and not yet sent for lack of credit. */
  public long pendingBytes() { return pendingBytes; }
  public int receiveWindow() { return recvWindow; }
  public long sendCredit() { return sendCredit; }
  public boolean finReceived() { return finReceived; }
  long lastActivityNanos() { return lastActivityNanos; }
  /** True when this stream's DATA carries dedup tokens (negotiated in OPEN). */
  public boolean isDeduplicated() { return dedup != null; }

  /** Installs dedup before any DATA is written or received (the connection does, at OPEN). */
  void enableDedup(StreamDedup d) {
    dedup = d;
    replay = null; // the dedup coder is stateful per connection: such streams do not resume
  }

  /** Sink of the dedup layer: token payloads become DATA / DEDUP_REPLY frames. */
  StreamDedup.Sink dedupSink() {
    return new StreamDedup.Sink() {
      @Override
      public void data(ByteBuf tokens) {
        writeDataFrame(tokens, tokens.readableBytes());
      }

      @Override
      public void reply(ByteBuf tokens) {
        if (state == State.CLOSED) {
          tokens.release();
          return;
        }
        connection.writeFrame(new Frame(FrameType.DEDUP_REPLY, 0, id, tokens));
      }
    };
  }

  /** True when a source may hand more data to {@link #write}. */
  public boolean isWritable() {
    return state != State.CLOSED && !suspended && !finRequested && pending.isEmpty() && sendCredit > 0
        && connection.channel().isWritable();
  }

  // ---------------------------------------------------------------- API (event loop only)

  /** SP side: accept a peer-opened stream, send OPEN_ACK and deliver held 0-RTT data. */
  public void accept(StreamListener l) {
    assert eventLoop().inEventLoop();
    if (state != State.OPENING || local) {
      throw new IllegalStateException("stream " + id + " is not an incoming OPEN");
    }
    state = State.OPEN;
    listener = l;
    send(new Frame(FrameType.OPEN_ACK, id));
    deliverHeld();
  }

  /**
   * SP side: forget a peer-opened stream without answering it (a raced OPEN at the session
   * limit). The CP's race timeout, or its RST once another SP won, ends the stream there; late
   * frames for it are ignored here like those of any stream that already ended.
   */
  public void ignore() {
    assert eventLoop().inEventLoop();
    if (state != State.OPENING || local) {
      throw new IllegalStateException("stream " + id + " is not an unanswered incoming OPEN");
    }
    close();
  }

  /** Runs {@code r} once when the stream closes, however it ends (at once if it already has). */
  public void whenClosed(Runnable r) {
    assert eventLoop().inEventLoop();
    if (state == State.CLOSED) {
      r.run();
      return;
    }
    Runnable before = whenClosed;
    whenClosed = before == null ? r : () -> {
      before.run();
      r.run();
    };
  }

  /** Hands this stream's events to another listener (a race winner's socket bridge). */
  void listener(StreamListener l) {
    assert eventLoop().inEventLoop();
    listener = l;
  }

  /** SP side: refuse a peer-opened stream with a reason. */
  public void reject(ErrorCode code, String message) {
    assert eventLoop().inEventLoop();
    if (state == State.CLOSED) {
      return;
    }
    send(Frames.openFail(connection.alloc(), id, code, message));
    close();
  }

  /** Sends stream payload; takes ownership of {@code data}. */
  public void write(ByteBuf data) {
    assert eventLoop().inEventLoop();
    if (state == State.CLOSED || finRequested) {
      data.release();
      return;
    }
    if (!data.isReadable()) {
      data.release();
      return;
    }
    lastActivityNanos = System.nanoTime();
    pendingBytes += data.readableBytes();
    pending.add(data);
    connection.bufferedSendDelta(data.readableBytes());
    drainPending();
  }

  /** Sends one datagram of a UDP flow; dropped (and counted) while the trunk is congested. */
  public void sendDatagram(ByteBuf datagram) {
    assert eventLoop().inEventLoop();
    if (state == State.CLOSED || !connection.channel().isWritable()
        || datagram.readableBytes() > connection.settings().maxFramePayload) {
      datagram.release();
      if (state != State.CLOSED) {
        connection.datagramDropped();
      }
      return;
    }
    lastActivityNanos = System.nanoTime();
    connection.payloadTx(datagram.readableBytes());
    connection.writeFrame(new Frame(FrameType.DATAGRAM, 0, id, datagram));
  }

  /** Half-close: FIN goes out after the pending data. */
  public void shutdownOutput() {
    assert eventLoop().inEventLoop();
    if (state == State.CLOSED || finRequested) {
      return;
    }
    finRequested = true;
    drainPending();
  }

  /** Aborts the stream: RST to the peer, local buffers dropped, no more events. */
  public void reset(ErrorCode code, String message) {
    assert eventLoop().inEventLoop();
    if (state == State.CLOSED) {
      return;
    }
    send(Frames.rst(connection.alloc(), id, code, message)); // suspended: the peer learns at RESUME
    close();
  }

  /** Reports {@code bytes} of received data written out locally; returns credit to the peer. */
  public void consumed(int bytes) {
    assert eventLoop().inEventLoop();
    if (bytes <= 0) {
      return;
    }
    long n = Math.min(bytes, recvReceived - recvConsumed);
    recvConsumed += n;
    connection.bufferedRecvDelta(-n);
    if (state == State.CLOSED || finReceived) {
      return; // the peer sends nothing more, no credit needed
    }
    unackedConsumed += n;
    if (suspended) {
      return; // the credit goes out in RESUME
    }
    epochConsumed += n;
    int growth = 0;
    if (epochConsumed >= recvWindow) {
      long now = System.nanoTime();
      long srtt = connection.srttNanos();
      // A whole window drained within ~4 RTT: the window, not the reader, limits throughput. The
      // credit loop is longer than one RTT (sender queue, retransmissions on a lossy WAN).
      if (srtt > 0 && now - epochStartNanos < 4 * srtt && recvWindow < connection.settings().maxWindow) {
        int want = Math.min(recvWindow, connection.settings().maxWindow - recvWindow);
        if (connection.reserveWindow(want)) {
          growth = want;
          recvWindow += want;
        }
      }
      epochStartNanos = now;
      epochConsumed = 0;
    }
    if (growth > 0 || unackedConsumed >= recvWindow / 8) {
      long inc = unackedConsumed + growth;
      unackedConsumed = 0;
      recvGranted += inc;
      connection.writeFrame(connection.resumeNegotiated()
          ? Frames.window(connection.alloc(), id, (int) inc, recvConsumed)
          : Frames.window(connection.alloc(), id, (int) inc));
    }
  }

  // ---------------------------------------------------------------- frames from the peer

  void onOpenAck() {
    if (!local || state != State.OPENING) {
      throw new ProtocolViolation("unexpected_open_ack", "OPEN_ACK for stream " + id);
    }
    state = State.OPEN;
    listener.onOpenAck(this);
  }

  void onOpenFail(ErrorCode code, String message) {
    if (!local || state != State.OPENING) {
      throw new ProtocolViolation("unexpected_open_fail", "OPEN_FAIL for stream " + id);
    }
    StreamListener l = listener;
    close();
    l.onOpenFail(this, code, message);
  }

  void onData(int flags, ByteBuf payload) {
    if (finReceived) {
      payload.release();
      throw new ProtocolViolation("data_after_fin", "DATA after FIN on stream " + id);
    }
    if (protocol() != StreamProtocol.TCP) {
      payload.release();
      throw new ProtocolViolation("bad_frame_for_stream", "DATA on a UDP flow " + id);
    }
    long free = recvGranted - recvReceived;
    ByteBuf plain;
    int codecId = flags & 0x3;
    if (dedup != null) {
      plain = decodeDedup(codecId, payload, free);
      if (plain == null) {
        return;
      }
    } else if (codecId == 0) {
      plain = payload;
      if (plain.readableBytes() > free) {
        plain.release();
        throw new ProtocolViolation(ErrorCode.FLOW_CONTROL, "window_overflow",
            "stream " + id + " sent " + plain.readableBytes() + " bytes with " + free + " credit");
      }
    } else {
      int wire = payload.readableBytes();
      try {
        plain = connection.decompressor().decompress(connection.alloc(), codecId,
            payload, (int) Math.min(free, connection.settings().maxFramePayload));
      } catch (RuntimeException e) {
        connection.metrics().protocolError("bad_compressed_data");
        connection.log().debug("stream {}: bad compressed DATA ({} bytes): {}", id, wire, e.getMessage());
        if (state != State.CLOSED) {
          StreamListener l = listener;
          reset(ErrorCode.PROTOCOL_ERROR, "bad compressed data");
          if (l != null) {
            l.onReset(this, ErrorCode.PROTOCOL_ERROR, "bad compressed data");
          }
        }
        return;
      }
    }
    int n = plain.readableBytes();
    if (state == State.CLOSED) { // RST crossed our frames; credit is moot
      plain.release();
      return;
    }
    if (n == 0) { // a dedup payload that produced no output (yet)
      plain.release();
      return;
    }
    lastActivityNanos = System.nanoTime();
    recvReceived += n;
    connection.bufferedRecvDelta(n);
    connection.payloadRx(n);
    if (listener == null || state == State.OPENING && !local) {
      held().add(plain);
    } else {
      listener.onData(this, plain);
    }
  }

  /** Token payload (maybe compressed) to stream bytes; null when the stream was reset for it. */
  private ByteBuf decodeDedup(int codecId, ByteBuf payload, long free) {
    ByteBuf tokens = payload;
    if (codecId != 0) {
      try { // the decompressor consumes its input on every path
        tokens = connection.decompressor().decompress(connection.alloc(), codecId, payload,
            connection.settings().maxFramePayload);
      } catch (RuntimeException e) {
        badDedupData(e);
        return null;
      }
    }
    try {
      if (state == State.CLOSED) {
        return connection.alloc().buffer(0);
      }
      return dedup.decode(tokens, free, id);
    } catch (ProtocolViolation v) {
      throw v;
    } catch (RuntimeException e) {
      badDedupData(e);
      return null;
    } finally {
      tokens.release();
    }
  }

  /** A malformed or unverifiable token stream resets this stream only; the stores stay valid. */
  private void badDedupData(RuntimeException e) {
    boolean dedupError = e instanceof DedupException;
    String reason = dedupError ? "bad_dedup_data" : "bad_compressed_data";
    connection.metrics().protocolError(reason);
    connection.log().debug("stream {}: {}: {}", id, reason, e.getMessage());
    if (state != State.CLOSED) {
      StreamListener l = listener;
      reset(ErrorCode.PROTOCOL_ERROR, reason);
      if (l != null) {
        l.onReset(this, ErrorCode.PROTOCOL_ERROR, reason);
      }
    }
  }

  void onDedupReply(ByteBuf tokens) {
    try {
      if (dedup == null) {
        throw new ProtocolViolation("bad_frame_for_stream", "DEDUP_REPLY on stream " + id + " without dedup");
      }
      if (state == State.CLOSED) {
        return;
      }
      dedup.onReply(tokens);
      drainPending(); // an Ack may be what a held FIN waits for
    } catch (DedupException e) {
      badDedupData(e);
    } finally {
      tokens.release();
    }
  }

  void onDatagram(ByteBuf datagram) {
    if (protocol() != StreamProtocol.UDP) {
      datagram.release();
      throw new ProtocolViolation("bad_frame_for_stream", "DATAGRAM on a TCP stream " + id);
    }
    lastActivityNanos = System.nanoTime();
    connection.payloadRx(datagram.readableBytes());
    if (listener == null || state == State.OPENING && !local) {
      ArrayDeque<Object> h = held();
      if (h.size() >= 64) { // bounded hold for a flow whose socket is not ready yet
        datagram.release();
        connection.datagramDropped();
      } else {
        h.add(datagram);
      }
    } else {
      listener.onDatagram(this, datagram);
    }
  }

  void onWindow(int increment, long ack) {
    if (ack >= 0 && replay != null) {
      if (ack > replay.end()) {
        throw new ProtocolViolation("ack_beyond_sent", "stream " + id + " acknowledged " + ack + " of "
            + replay.end() + " bytes sent");
      }
      if (ack > replay.start()) {
        long before = replay.size();
        replay.ack(ack);
        connection.replayHeldDelta(replay.size() - before);
      }
    }
    long credit = sendCredit + increment;
    if (credit > Integer.MAX_VALUE) {
      throw new ProtocolViolation(ErrorCode.FLOW_CONTROL, "window_overflow",
          "credit of stream " + id + " would reach " + credit);
    }
    sendCredit = credit;
    stalled = false;
    drainPending();
    notifyIfWritable();
  }

  void onFin() {
    if (finReceived) {
      throw new ProtocolViolation("duplicate_fin", "second FIN on stream " + id);
    }
    if (dedup != null && dedup.waiting()) {
      // The sender holds FIN until every Ref is acknowledged, so this is a broken peer.
      throw new ProtocolViolation("dedup_fin_while_waiting", "FIN on stream " + id + " with a chunk outstanding");
    }
    finReceived = true;
    if (listener == null || state == State.OPENING && !local) {
      held().add(FIN_MARKER);
    } else {
      listener.onFin(this);
      closeIfDone();
    }
  }

  void onReset(ErrorCode code, String message) {
    StreamListener l = listener;
    close();
    if (l != null) {
      l.onReset(this, code, message);
    }
  }

  /** Connection closed or stream expired: aborts without telling the peer. */
  void abort(ErrorCode code, String message) {
    if (state == State.CLOSED) {
      return;
    }
    onReset(code, message);
  }

  void notifyIfWritable() {
    if (listener != null && state != State.CLOSED && isWritable()) {
      listener.onWritable(this);
    }
  }

  // ---------------------------------------------------------------- internals

  private ArrayDeque<Object> held() {
    if (held == null) {
      held = new ArrayDeque<>(4);
    }
    return held;
  }

  private void deliverHeld() {
    if (held == null) {
      return;
    }
    Object m;
    while (state != State.CLOSED && (m = held.poll()) != null) {
      if (m == FIN_MARKER) {
        listener.onFin(this);
        closeIfDone();
      } else if (protocol() == StreamProtocol.UDP) {
        listener.onDatagram(this, (ByteBuf) m);
      } else {
        listener.onData(this, (ByteBuf) m);
      }
    }
  }

  private void drainPending() {
    if (suspended) {
      return; // kept until a new connection resumes the stream
    }
    int maxFrame = connection.settings().maxDataFrame;
    ByteBuf head;
    while ((head = pending.peek()) != null && sendCredit > 0) {
      int take = (int) Math.min(Math.min(sendCredit, maxFrame), head.readableBytes());
      ByteBuf chunk;
      if (take == head.readableBytes()) {
        chunk = pending.poll();
      } else {
        chunk = head.readRetainedSlice(take);
      }
      sendCredit -= take;
      pendingBytes -= take;
      connection.bufferedSendDelta(-take);
      long again = Math.min(take, resendLeft); // replayed bytes count once, as replayed
      resendLeft -= again;
      connection.payloadTx((int) (take - again));
      if (dedup != null) {
        try {
          dedup.encode(chunk);
        } finally {
          chunk.release();
        }
        continue;
      }
      if (replay != null) {
        replay.append(chunk.retainedDuplicate()); // same memory, own indexes: released on ack
        connection.replayHeldDelta(take);
      }
      writeDataFrame(chunk, take);
    }
    if (dedup != null && state != State.CLOSED) {
      dedup.emit();
      scheduleDedupFlush();
    }
    if (!pending.isEmpty() && sendCredit <= 0 && !stalled) {
      stalled = true;
      connection.windowStall();
    }
    if (pending.isEmpty() && finRequested && !finSent && dedup != null && state != State.CLOSED) {
      dedup.finish();
      if (!dedup.allAcked()) {
        return; // FIN waits for the Ack of the last Ref: an Ask after FIN could not be answered
      }
    }
    if (pending.isEmpty() && finRequested && !finSent && state != State.CLOSED) {
      finSent = true;
      connection.writeFrame(new Frame(FrameType.FIN, id));
      closeIfDone();
    }
  }

  /** One DATA frame, compressed when the stream compresses; takes ownership of {@code chunk}. */
  private void writeDataFrame(ByteBuf chunk, int plainLength) {
    int flags = 0;
    if (compressor != null) {
      AdaptiveCompressor.Compressed c = compressor.compress(connection.alloc(), chunk);
      chunk = c.payload();
      flags = c.codec().id();
      connection.compressionSaved(plainLength - chunk.readableBytes());
    }
    connection.writeFrame(new Frame(FrameType.DATA, flags, id, chunk));
  }

  /**
   * The tail of an unfinished chunk goes out only after the stream paused for the flush delay:
   * flushing on every read would split chunks and make them unreferenceable later.
   */
  private void scheduleDedupFlush() {
    if (dedupFlushScheduled || dedup.encodedSinceFlush() == 0) {
      return;
    }
    dedupFlushScheduled = true;
    long seen = dedup.encodedSinceFlush();
    eventLoop().schedule(() -> {
      dedupFlushScheduled = false;
      if (state == State.CLOSED || dedup == null) {
        return;
      }
      if (dedup.encodedSinceFlush() != seen) {
        scheduleDedupFlush(); // still flowing: look again later
        return;
      }
      dedup.flushTail();
    }, connection.dedupFlushDelayNanos(), TimeUnit.NANOSECONDS);
  }

  private void closeIfDone() {
    if (finSent && finReceived && state != State.CLOSED && (held == null || held.isEmpty())) {
      StreamListener l = listener;
      close();
      if (l != null) {
        l.onClosed(this);
      }
    }
  }

  /** Marks closed, drops buffers, frees window reservations, unregisters. */
  private void close() {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    if (dedup != null) {
      dedup.close();
    }
    ByteBuf b;
    while ((b = pending.poll()) != null) {
      b.release();
    }
    connection.bufferedSendDelta(-pendingBytes);
    pendingBytes = 0;
    if (replay != null) {
      connection.replayHeldDelta(-replay.size());
      replay.release();
    }
    if (held != null) {
      Object m;
      while ((m = held.poll()) != null) {
        if (m != FIN_MARKER) {
          ReferenceCountUtil.release(m);
        }
      }
    }
    // Whatever the listener still holds is its to release; it no longer counts against the link.
    connection.bufferedRecvDelta(-(recvReceived - recvConsumed));
    recvConsumed = recvReceived;
    connection.releaseWindow(recvWindow - connection.settings().initialWindow);
    if (suspended) {
      connection.suspendedStreamClosed(this);
    } else {
      connection.streamClosed(this);
    }
    if (whenClosed != null) {
      Runnable r = whenClosed;
      whenClosed = null;
      r.run();
    }
  }

  /** Stream frames go out only while the stream has a live connection. */
  private void send(Frame f) {
    if (suspended) {
      f.release();
    } else {
      connection.writeFrame(f);
    }
  }

  // ---------------------------------------------------------------- resumption (see PROTOCOL.md 12)

  public boolean isSuspended() { return suspended; }
  StreamListener listener() { return listener; }
  /** Sent bytes held for a resend (0 without resumption). */
  public long replayBytes() { return replay == null ? 0 : replay.size(); }
  /** Plain bytes of this stream sent so far (replay offsets), -1 without resumption. */
  long sentOffset() { return replay == null ? -1 : replay.end(); }
  long suspendedAtNanos() { return suspendedAtNanos; }
  long receivedOffset() { return recvReceived; }

  /** True when the stream can wait for a new connection instead of being reset. */
  boolean isResumable() {
    return state != State.CLOSED && replay != null && dedup == null && listener != null && listener.resumable()
        && (local || state == State.OPEN);
  }

  /** The connection is gone: keep everything, send nothing, take no more data from the source. */
  void suspend() {
    suspended = true;
    suspendedAtNanos = System.nanoTime();
  }

  /** On the old loop: from now on the stream belongs to {@code c} (and its loop). */
  void moveTo(TrunkConnection c) {
    connection = c;
    if (compressor != null) {
      compressor.onFirstSample(null); // the old connection's hints stay on the old loop
    }
    listener.onMoved(this, c.eventLoop());
  }

  /** What this side tells the peer in RESUME: received offset and the credit limit. */
  Resume.Entry resumeEntry() {
    if (!finReceived && unackedConsumed > 0) {
      recvGranted += unackedConsumed; // consumed while suspended: the credit rides in RESUME
      unackedConsumed = 0;
    }
    int flags = (finReceived ? Resume.FLAG_FIN_RECEIVED : 0) | (state == State.OPEN ? Resume.FLAG_OPEN : 0);
    return new Resume.Entry(id, flags, recvReceived, recvGranted);
  }

  /** Checks the peer's entry before anything is applied (a hostile offset closes the connection). */
  void checkResume(Resume.Entry e) {
    if (e.received() > replay.end()) {
      throw new ProtocolViolation("resume_offset", "stream " + id + ": peer claims " + e.received()
          + " bytes received of " + replay.end() + " sent");
    }
    if (e.received() < replay.start()) {
      throw new ProtocolViolation("resume_offset", "stream " + id + ": peer claims " + e.received()
          + " bytes received after acknowledging " + replay.start());
    }
    if (e.limit() - e.received() > Integer.MAX_VALUE) {
      throw new ProtocolViolation(ErrorCode.FLOW_CONTROL, "window_overflow", "stream " + id + " resume credit "
          + (e.limit() - e.received()));
    }
  }

  /** Continues on the new connection from where the peer stopped receiving (checked before). */
  void resume(Resume.Entry e) {
    connection.replayHeldDelta(-replay.size());
    List<ByteBuf> again = replay.rewind(e.received());
    long n = 0;
    for (int i = again.size() - 1; i >= 0; i--) {
      ByteBuf b = again.get(i);
      n += b.readableBytes();
      pending.addFirst(b);
    }
    pendingBytes += n;
    resendLeft = n;
    connection.bufferedSendDelta(n);
    connection.replayed(n);
    sendCredit = e.limit() - e.received();
    if (finSent && !e.finReceived()) {
      finSent = false; // the FIN was lost with the old connection: send it again after the data
    }
    suspended = false;
    stalled = false;
    lastActivityNanos = System.nanoTime();
    if (local && state == State.OPENING && e.open()) {
      onOpenAck(); // the OPEN_ACK was lost with the old connection
    }
    drainPending();
    notifyIfWritable();
  }

  /** Not resumed (grace over, peer restarted, unknown to the peer): the local side sees a reset. */
  void abortSuspended(ErrorCode code, String message) {
    abort(code, message);
  }

  /** Buffers owned by the stream right now, for the connection's accounting after a move. */
  long unwrittenReceivedBytes() { return recvReceived - recvConsumed; }
  int extraWindow() { return recvWindow - connection.settings().initialWindow; }

  @Override
  public String toString() {
    return "TrunkStream(" + id + ", " + request.protocol() + " -> " + request.destination() + ", " + state + ")";
  }
}
