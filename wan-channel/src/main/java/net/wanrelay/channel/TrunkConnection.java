package net.wanrelay.channel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.wanrelay.channel.compress.AdaptiveCompressor;
import net.wanrelay.channel.compress.CompressibilityHints;
import net.wanrelay.channel.compress.CompressionCodec;
import net.wanrelay.channel.compress.CompressionSettings;
import net.wanrelay.channel.compress.Decompressor;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameType;
import net.wanrelay.channel.frame.Frames;
import net.wanrelay.channel.frame.Hello;
import net.wanrelay.channel.frame.OpenRequest;
import net.wanrelay.channel.frame.ProtocolViolation;
import net.wanrelay.channel.frame.Resume;
import net.wanrelay.channel.frame.StreamProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multiplexer of one authenticated trunk connection: stream table, stream-id rules,
 * per-stream flow control and the per-link window budget, heartbeat with RTT, UDP flow expiry,
 * GOAWAY drain. Installed by {@link PskHandshakeHandler} once both sides proved the key.
 *
 * <p>All state is confined to the channel's event loop. Frames are written without flushing
 * and one flush runs per event-loop turn, however many streams wrote.
 */
public final class TrunkConnection extends ChannelDuplexHandler {
  private static final Logger LOG = LoggerFactory.getLogger(TrunkConnection.class);
  private static final int MAX_STREAM_ID = 0x7FFFFFFF;

  private final TrunkSettings settings;
  private final boolean initiator;
  private final Hello remoteHello;
  private final TrunkMetrics metrics;
  private final TrunkMetrics.Peer peer;
  private final StreamAcceptor acceptor;
  private final CompressionSettings compression;
  private final Decompressor decompressor;
  // Per destination: did recent streams' data compress (loop-confined, like the streams).
  private final CompressibilityHints compressibility = new CompressibilityHints();
  private final DedupPeers dedup;
  private final List<Consumer<TrunkConnection>> goAwayListeners = new ArrayList<>(1);
  // Resumption (PROTOCOL.md section 12): null registry = streams die with the connection.
  private final ResumeRegistry resumeRegistry;
  private final String resumeKey;
  private final boolean resumeNegotiated;
  private boolean resumeSent;
  private boolean peerResumeSeen;
  private List<Frame> queuedUntilResume;
  private IntObjectHashMap<TrunkStream> awaitingPeerResume;
  private Runnable afterInactive;

  private volatile ChannelHandlerContext ctx;
  private Consumer<TrunkConnection> onReady;
  private java.util.function.BiConsumer<TrunkConnection, java.net.InetSocketAddress> onAnnounce;
  private final IntObjectHashMap<TrunkStream> streams = new IntObjectHashMap<>();
  private int nextLocalId;
  private int lastRemoteId;
  private boolean goAwaySent;
  private boolean goAwayReceived;
  private boolean inactive;
  private boolean failed;
  private boolean flushScheduled;
  private long windowReserved;
  private long bufferedRecv;
  private long bufferedSend;
  private long srttNanos;
  private long lastReadNanos;
  private long lastPingNanos;
  private ScheduledFuture<?> ticker;
  private final Runnable flushTask = () -> {
    flushScheduled = false;
    ctx.flush();
  };

  TrunkConnection(TrunkSettings settings, boolean initiator, Hello remoteHello, TrunkMetrics metrics,
      TrunkMetrics.Peer peer, StreamAcceptor acceptor, CompressionSettings compression,
      Decompressor decompressor) {
    this(settings, initiator, remoteHello, metrics, peer, acceptor, compression, decompressor, null);
  }

  TrunkConnection(TrunkSettings settings, boolean initiator, Hello remoteHello, TrunkMetrics metrics,
      TrunkMetrics.Peer peer, StreamAcceptor acceptor, CompressionSettings compression,
      Decompressor decompressor, DedupPeers dedup) {
    this(settings, initiator, remoteHello, metrics, peer, acceptor, compression, decompressor, dedup, null, null);
  }

  /**
   * With resumption: {@code resume} is the node's registry of suspended streams and
   * {@code resumeKey} this connection's key in it (both null: no resumption). Streams resume
   * only when the peer's HELLO offers it too.
   */
  TrunkConnection(TrunkSettings settings, boolean initiator, Hello remoteHello, TrunkMetrics metrics,
      TrunkMetrics.Peer peer, StreamAcceptor acceptor, CompressionSettings compression,
      Decompressor decompressor, DedupPeers dedup, ResumeRegistry resume, String resumeKey) {
    this.resumeRegistry = resume;
    this.resumeKey = resumeKey;
    this.resumeNegotiated = resume != null && resumeKey != null
        && (remoteHello.capabilities() & Hello.CAP_RESUME) != 0 && remoteHello.incarnation() != 0
        && (initiator || remoteHello.resumeToken() != 0);
    this.dedup = dedup;
    this.settings = settings;
    this.initiator = initiator;
    this.remoteHello = remoteHello;
    this.metrics = metrics;
    this.peer = peer;
    this.acceptor = acceptor;
    this.compression = compression == null ? CompressionSettings.OFF : compression;
    this.decompressor = decompressor;
    this.nextLocalId = initiator ? 1 : 2;
  }

  // ---------------------------------------------------------------- public view

  public Channel channel() { return ctx.channel(); }
  public EventLoop eventLoop() { return ctx.channel().eventLoop(); }
  public String peerNodeId() { return remoteHello.nodeId(); }
  public boolean isInitiator() { return initiator; }
  /** Smoothed RTT from PING/PONG, 0 until the first PONG. */
  public long srttNanos() { return srttNanos; }
  public int activeStreams() { return streams.size(); }
  /** Received stream bytes not yet written out locally, over all streams (event loop only). */
  public long bufferedReceiveBytes() { return bufferedRecv; }
  /** Stream bytes accepted from local sources and waiting for credit (event loop only). */
  public long bufferedSendBytes() { return bufferedSend; }
  /** Window bytes granted beyond the initial windows (auto-tuning), bounded by the link budget. */
  public long reservedWindowBytes() { return windowReserved; }
  public boolean isDraining() { return goAwaySent || goAwayReceived; }
  /** True when new streams may be opened here. */
  public boolean isUsable() {
    return ctx != null && !inactive && !isDraining() && ctx.channel().isActive()
        && (!resumeNegotiated || resumeSent);
  }

  /** True when streams of this connection survive its loss (both sides offered resumption). */
  public boolean resumeNegotiated() { return resumeNegotiated; }

  /** The open streams (event loop only). */
  public List<TrunkStream> streams() {
    return new ArrayList<>(streams.values());
  }

  /** Called on the event loop when the peer announces GOAWAY. */
  public void onGoAway(Consumer<TrunkConnection> listener) {
    goAwayListeners.add(listener);
  }

  /**
   * Opens a stream (event loop only). Returns null when this connection takes no new streams
   * (draining, closed, at its stream cap). DATA may be written at once (0-RTT).
   */
  public TrunkStream open(OpenRequest request, StreamListener listener) {
    assert eventLoop().inEventLoop();
    if (!isUsable() || streams.size() >= remoteHello.maxStreams()) {
      return null;
    }
    if (nextLocalId > MAX_STREAM_ID - 2) {
      goAway(ErrorCode.NO_ERROR, "stream ids exhausted");
      return null;
    }
    int codec = outboundCodec(request.compressionCodec() != 0 || request.protocol() == StreamProtocol.TCP);
    boolean tcp = request.protocol() == StreamProtocol.TCP;
    OpenRequest wire = new OpenRequest(request.protocol(), request.destination(), request.source(),
        tcp ? codec : 0, tcp && dedupOffered(), request.race());
    int id = nextLocalId;
    nextLocalId += 2;
    TrunkStream s = new TrunkStream(this, id, wire, true, listener, remoteHello.initialWindow(),
        settings.initialWindow, compressorFor(wire));
    if (wire.dedup()) {
      s.enableDedup(newDedup(s));
    }
    streams.put(id, s);
    peer.streamsActive.incrementAndGet();
    writeFrame(new Frame(FrameType.OPEN, 0, id, wire.encode(alloc())));
    return s;
  }

  /**
   * Tells the peer where this node accepts trunk connections (event loop only); skipped when the
   * peer does not understand ANNOUNCE.
   */
  public void announce(java.net.InetSocketAddress trunkAddress) {
    assert eventLoop().inEventLoop();
    if (inactive || (remoteHello.capabilities() & Hello.CAP_ANNOUNCE) == 0) {
      return;
    }
    ByteBuf b = alloc().buffer(19);
    net.wanrelay.channel.frame.WireAddress.write(b, trunkAddress);
    writeFrame(new Frame(FrameType.ANNOUNCE, 0, 0, b));
  }

  /** Called on the event loop with each trunk address the peer announces. */
  void onAnnounce(java.util.function.BiConsumer<TrunkConnection, java.net.InetSocketAddress> listener) {
    onAnnounce = listener;
  }

  /** Sends GOAWAY: the peer opens nothing more; the connection closes once its streams end. */
  public void goAway(ErrorCode code, String message) {
    assert eventLoop().inEventLoop();
    if (goAwaySent || inactive) {
      return;
    }
    goAwaySent = true;
    writeFrame(Frames.goAway(alloc(), lastRemoteId, code, message));
    closeIfDrained();
  }

  /** Shutdown after the drain: RST for every open stream (so the peer does not wait to resume), then close. */
  void resetAllAndClose() {
    if (ctx == null || inactive) {
      return;
    }
    for (TrunkStream s : new ArrayList<>(streams.values())) {
      StreamListener l = s.listener();
      s.reset(ErrorCode.GOING_AWAY, "node shutting down");
      if (l != null) {
        l.onReset(s, ErrorCode.GOING_AWAY, "node shutting down");
      }
    }
    ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  // ---------------------------------------------------------------- pipeline events

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    lastReadNanos = System.nanoTime();
    peer.connectionsUp.incrementAndGet();
    long tick = Math.max(10, Math.min(Math.min(settings.heartbeatInterval.toMillis(),
        settings.udpIdleTimeout.toMillis() / 4), 1000));
    ticker = ctx.executor().scheduleAtFixedRate(this::tick, tick, tick, TimeUnit.MILLISECONDS);
    if (resumeNegotiated) {
      startResume(); // RESUME must be the first frame; ready() follows it
    } else {
      ready();
    }
  }

  private void ready() {
    sendPing(); // first RTT sample right away, window auto-tuning needs it
    if (onReady != null) {
      onReady.accept(this);
    }
  }

  /** Runs once the handler is in the pipeline (before any stream frame is read). */
  void onReady(Consumer<TrunkConnection> r) {
    onReady = r;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Frame frame)) {
      ctx.fireChannelRead(msg);
      return;
    }
    lastReadNanos = System.nanoTime();
    if (resumeNegotiated && !resumeSent && !failed) {
      // Our RESUME waits for streams moving from their old loop; the peer's frames wait for it.
      (queuedUntilResume == null ? queuedUntilResume = new ArrayList<>() : queuedUntilResume).add(frame);
      return;
    }
    handle(frame);
  }

  private void handle(Frame frame) {
    if (failed) {
      frame.release();
      return;
    }
    try {
      dispatch(frame);
    } finally {
      frame.release();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      for (TrunkStream s : new ArrayList<>(streams.values())) {
        s.notifyIfWritable();
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void close(ChannelHandlerContext ctx, io.netty.channel.ChannelPromise promise) {
    if (LOG.isDebugEnabled()) {
      LOG.debug("trunk {}: closing connection with {} streams", peer.name(), streams.size(), new Exception("close called here"));
    }
    ctx.close(promise);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    inactive = true;
    if (ticker != null) {
      ticker.cancel(false);
    }
    peer.connectionsUp.decrementAndGet();
    if (queuedUntilResume != null) {
      queuedUntilResume.forEach(Frame::release);
      queuedUntilResume = null;
    }
    boolean park = resumeNegotiated && !failed && resumeRegistry.enabled();
    List<TrunkStream> kept = new ArrayList<>();
    long since = System.nanoTime();
    for (TrunkStream s : new ArrayList<>(streams.values())) {
      if (park && s.isResumable()) {
        if (!s.isSuspended()) {
          s.suspend();
          peer.streamsSuspended.incrementAndGet();
        }
        since = Math.min(since, s.suspendedAtNanos());
        kept.add(s);
      } else {
        s.abort(ErrorCode.CONNECTION_LOST, "trunk connection closed");
      }
    }
    if (!kept.isEmpty()) {
      for (TrunkStream s : kept) {
        streams.remove(s.id()); // still active: the gauge goes down when it closes
      }
      ResumeRegistry.Parked p = new ResumeRegistry.Parked(eventLoop(), kept, nextLocalId, lastRemoteId,
          remoteHello.incarnation(), peer, new AtomicBoolean(), new io.netty.util.concurrent.ScheduledFuture<?>[1]);
      if (resumeRegistry.park(resumeKey, p, since)) {
        LOG.info("trunk {}: connection lost, {} streams suspended for up to {} ms", peer.name(), kept.size(),
            resumeRegistry.grace().toMillis());
      } else {
        p.take();
        for (TrunkStream s : kept) {
          peer.resumeReset("shutdown");
          s.abortSuspended(ErrorCode.CONNECTION_LOST, "trunk connection closed");
        }
      }
    }
    if (resumeRegistry != null && resumeKey != null) {
      resumeRegistry.unregister(resumeKey, this);
    }
    if (afterInactive != null) {
      afterInactive.run();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable c = cause instanceof ProtocolViolation ? cause
        : cause.getCause() instanceof ProtocolViolation ? cause.getCause() : cause;
    if (c instanceof ProtocolViolation v) {
      failConnection(v);
    } else if (c instanceof IOException) {
      LOG.debug("trunk {}: I/O error, closing: {}", peer.name(), c.toString());
      ctx.close();
    } else {
      LOG.warn("trunk {}: unexpected error, closing", peer.name(), c);
      ctx.close();
    }
  }

  // ---------------------------------------------------------------- frame dispatch

  private void dispatch(Frame f) {
    if (resumeNegotiated && !peerResumeSeen && f.type() != FrameType.RESUME) {
      throw new ProtocolViolation("resume_expected", f.type() + " before RESUME");
    }
    switch (f.type()) {
      case RESUME -> onResume(f.content());
      case HELLO, AUTH -> throw new ProtocolViolation("unexpected_handshake", f.type() + " after authentication");
      case PING -> {
        long opaque = f.content().readableBytes() >= 8 ? f.content().getLong(f.content().readerIndex()) : 0;
        writeFrame(Frames.ping(alloc(), FrameType.PONG, opaque, streams.size()));
      }
      case PONG -> onPong(f.content());
      case GOAWAY -> onGoAwayFrame(f.content());
      case ANNOUNCE -> onAnnounceFrame(f.content());
      case OPEN -> onOpen(f.streamId(), f.content());
      default -> onStreamFrame(f);
    }
  }

  private void onStreamFrame(Frame f) {
    int id = f.streamId();
    TrunkStream s = streams.get(id);
    if (s == null) {
      if (isKnownClosed(id)) {
        return; // late frame of a stream that already ended (RST crossed it)
      }
      throw new ProtocolViolation("unknown_stream", f.type() + " for stream " + Integer.toUnsignedString(id));
    }
    ByteBuf p = f.content();
    switch (f.type()) {
      case OPEN_ACK -> s.onOpenAck();
      case OPEN_FAIL -> s.onOpenFail(Frames.reasonCode(p), Frames.reasonText(p));
      case DATA -> s.onData(f.flags(), p.retain());
      case DATAGRAM -> s.onDatagram(p.retain());
      case DEDUP_REPLY -> s.onDedupReply(p.retain());
      case WINDOW -> s.onWindow(Frames.windowIncrement(p), Frames.windowAck(p));
      case FIN -> s.onFin();
      case RST -> s.onReset(Frames.reasonCode(p), Frames.reasonText(p));
      default -> throw new ProtocolViolation("unexpected_frame", f.type().toString());
    }
  }

  private boolean isKnownClosed(int id) {
    boolean ours = (id & 1) == (initiator ? 1 : 0);
    return ours ? Integer.compareUnsigned(id, nextLocalId) < 0 : Integer.compareUnsigned(id, lastRemoteId) <= 0;
  }

  private void onOpen(int id, ByteBuf payload) {
    boolean peerParity = (id & 1) == (initiator ? 0 : 1);
    if (!peerParity) {
      throw new ProtocolViolation("stream_id_parity", "peer opened stream " + Integer.toUnsignedString(id));
    }
    if (Integer.compareUnsigned(id, lastRemoteId) <= 0) {
      throw new ProtocolViolation("stream_id_reuse", "OPEN for stream " + Integer.toUnsignedString(id)
          + " after " + Integer.toUnsignedString(lastRemoteId));
    }
    lastRemoteId = id;
    OpenRequest req = OpenRequest.decode(payload);
    if (goAwaySent) {
      writeFrame(Frames.openFail(alloc(), id, ErrorCode.GOING_AWAY, "draining"));
      return;
    }
    if (streams.size() >= settings.maxStreams) {
      writeFrame(Frames.openFail(alloc(), id, ErrorCode.BUSY, "stream limit " + settings.maxStreams));
      return;
    }
    if (acceptor == null) {
      peer.openDenied.increment();
      writeFrame(Frames.openFail(alloc(), id, ErrorCode.DENIED, "this node accepts no streams"));
      return;
    }
    if (req.dedup() && !dedupOffered()) {
      throw new ProtocolViolation("bad_open", "stream " + Integer.toUnsignedString(id) + " asks for dedup, not negotiated");
    }
    TrunkStream s = new TrunkStream(this, id, req, false, null, remoteHello.initialWindow(),
        settings.initialWindow, req.compressionCodec() != 0 ? compressorFor(req) : null);
    if (req.dedup()) {
      StreamDedup d = newDedup(s);
      if (d == null) { // node shutting down, stores closed
        writeFrame(Frames.openFail(alloc(), id, ErrorCode.GOING_AWAY, "dedup store closed"));
        return;
      }
      s.enableDedup(d);
    }
    streams.put(id, s);
    peer.streamsActive.incrementAndGet();
    try {
      acceptor.onOpen(s);
    } catch (RuntimeException e) {
      LOG.warn("trunk {}: acceptor failed for stream {}", peer.name(), id, e);
      s.reject(ErrorCode.INTERNAL, "acceptor error");
    }
  }

  private void onPong(ByteBuf p) {
    if (p.readableBytes() < 8) {
      throw new ProtocolViolation("bad_ping", "PONG payload " + p.readableBytes() + " bytes");
    }
    long sample = System.nanoTime() - p.getLong(p.readerIndex());
    if (sample < 0 || sample > TimeUnit.MINUTES.toNanos(5)) {
      return; // not an echo of ours
    }
    srttNanos = srttNanos == 0 ? sample : srttNanos + (sample - srttNanos) / 8;
    peer.rttNanos.set(srttNanos);
  }

  private void onGoAwayFrame(ByteBuf p) {
    if (p.readableBytes() < 5) {
      throw new ProtocolViolation("bad_goaway", "GOAWAY payload " + p.readableBytes() + " bytes");
    }
    ByteBuf reason = p.slice(p.readerIndex() + 4, p.readableBytes() - 4);
    ErrorCode code = Frames.reasonCode(reason);
    String text = Frames.reasonText(reason);
    if (code == ErrorCode.NO_ERROR || code == ErrorCode.GOING_AWAY) {
      LOG.info("trunk {}: peer is going away ({})", peer.name(), text);
    } else {
      LOG.warn("trunk {}: peer sent GOAWAY {} ({})", peer.name(), code.label(), text);
    }
    boolean first = !goAwayReceived;
    goAwayReceived = true;
    if (first) {
      for (Consumer<TrunkConnection> l : goAwayListeners) {
        l.accept(this);
      }
    }
    closeIfDrained();
  }

  private void onAnnounceFrame(ByteBuf p) {
    java.net.InetSocketAddress a;
    try {
      a = net.wanrelay.channel.frame.WireAddress.read(p);
    } catch (IndexOutOfBoundsException e) {
      throw new ProtocolViolation("bad_announce", "truncated ANNOUNCE");
    }
    if (a == null || a.isUnresolved() || a.getPort() == 0 || a.getAddress().isAnyLocalAddress() || p.isReadable()) {
      throw new ProtocolViolation("bad_announce", "ANNOUNCE needs one IP address and port");
    }
    if (onAnnounce != null) {
      onAnnounce.accept(this, a);
    }
  }

  // ---------------------------------------------------------------- heartbeat and expiry

  private void tick() {
    long now = System.nanoTime();
    if (now - lastReadNanos > settings.heartbeatTimeout.toNanos()) {
      LOG.warn("trunk {}: no frame for {} ms, closing the socket", peer.name(),
          TimeUnit.NANOSECONDS.toMillis(now - lastReadNanos));
      ctx.close();
      return;
    }
    if (now - lastPingNanos >= settings.heartbeatInterval.toNanos() && (!resumeNegotiated || resumeSent)) {
      sendPing();
    }
    long idle = settings.udpIdleTimeout.toNanos();
    List<TrunkStream> expired = null;
    for (TrunkStream s : streams.values()) {
      if (s.protocol() == StreamProtocol.UDP && now - s.lastActivityNanos() > idle) {
        (expired == null ? expired = new ArrayList<>() : expired).add(s);
      }
    }
    if (expired != null) {
      for (TrunkStream s : expired) {
        writeFrame(Frames.rst(alloc(), s.id(), ErrorCode.IDLE, "udp flow idle"));
        s.abort(ErrorCode.IDLE, "udp flow idle");
      }
    }
  }

  private void sendPing() {
    lastPingNanos = System.nanoTime();
    writeFrame(Frames.ping(alloc(), FrameType.PING, lastPingNanos, streams.size()));
  }

  // ---------------------------------------------------------------- helpers for streams

  ByteBufAllocator alloc() { return ctx.alloc(); }
  TrunkSettings settings() { return settings; }
  TrunkMetrics metrics() { return metrics; }
  Logger log() { return LOG; }
  Decompressor decompressor() { return decompressor; }

  /** Writes without flushing; one flush is scheduled for the end of this event-loop turn. */
  void writeFrame(Frame f) {
    ctx.write(f, ctx.voidPromise());
    if (!flushScheduled) {
      flushScheduled = true;
      ctx.executor().execute(flushTask);
    }
  }

  boolean reserveWindow(int bytes) {
    if (windowReserved + bytes > settings.linkBudget) {
      return false;
    }
    windowReserved += bytes;
    return true;
  }

  void releaseWindow(int bytes) {
    windowReserved -= Math.max(0, bytes);
  }

  void bufferedRecvDelta(long n) {
    bufferedRecv += n;
    peer.bufferedBytes.addAndGet(n);
  }

  void bufferedSendDelta(long n) {
    bufferedSend += n;
  }

  void payloadTx(int n) { peer.txPayload.increment(n); }
  void payloadRx(int n) { peer.rxPayload.increment(n); }
  void compressionSaved(int n) {
    if (n > 0) {
      peer.compressionSaved.increment(n);
    }
  }
  void windowStall() { peer.windowStalls.increment(); }
  void datagramDropped() { peer.datagramsDropped.increment(); }

  /** A stream closed while suspended (never resumed): it leaves the gauges. */
  void suspendedStreamClosed(TrunkStream s) {
    if (streams.get(s.id()) == s) {
      streams.remove(s.id());
    }
    peer.streamsActive.decrementAndGet();
    peer.streamsSuspended.decrementAndGet();
  }

  /** Sent bytes held for a resend, over this peer's streams (gauge). */
  void replayHeldDelta(long n) {
    if (n != 0) {
      peer.replayHeld.addAndGet(n);
    }
  }

  void replayed(long bytes) {
    if (bytes > 0) {
      peer.replayedBytes.increment(bytes);
    }
  }

  // ---------------------------------------------------------------- resumption

  /** Claims the streams parked under this connection's key, moves them here, then sends RESUME. */
  private void startResume() {
    TrunkConnection previous = resumeRegistry.register(resumeKey, this);
    if (previous != null && !initiator) {
      // The initiator replaced a connection this side still thinks alive (its RST or FIN never
      // arrived): close the old one so its streams are parked, then take them over here.
      LOG.info("trunk {}: replacement connection from {}, closing the old one", peer.name(), remoteHello.nodeId());
      previous.closeSuperseded(() -> eventLoop().execute(this::claimParked));
      return;
    }
    claimParked();
  }

  /** On its own loop: closes this (superseded) connection, then runs {@code parked} once its streams are parked. */
  private void closeSuperseded(Runnable parked) {
    eventLoop().execute(() -> {
      if (inactive) {
        parked.run();
        return;
      }
      afterInactive = parked;
      ctx.close();
    });
  }

  private void claimParked() {
    if (inactive) {
      return;
    }
    if (!initiator) {
      for (ResumeRegistry.Parked p : resumeRegistry.claimEarlierLives(peer.name(), remoteHello.incarnation())) {
        LOG.info("trunk {}: peer restarted, resetting {} streams of its earlier life", peer.name(), p.streams().size());
        p.resetAll("peer_restarted", "peer restarted, the stream is gone");
      }
    }
    List<ResumeRegistry.Parked> live = new ArrayList<>();
    for (ResumeRegistry.Parked p : resumeRegistry.claim(resumeKey)) {
      if (initiator && p.peerIncarnation() != remoteHello.incarnation()) {
        LOG.info("trunk {}: peer restarted, resetting {} suspended streams", peer.name(), p.streams().size());
        p.resetAll("peer_restarted", "peer restarted, the stream is gone");
      } else {
        live.add(p);
      }
    }
    if (live.isEmpty()) {
      sendResume();
      return;
    }
    awaitingPeerResume = new IntObjectHashMap<>();
    int[] left = {live.size()};
    for (ResumeRegistry.Parked p : live) {
      nextLocalId = Math.max(nextLocalId, p.nextLocalId());
      if (Integer.compareUnsigned(p.lastRemoteId(), lastRemoteId) > 0) {
        lastRemoteId = p.lastRemoteId();
      }
      // Streams are confined to their loop: they move over on it, then this loop adopts them.
      p.loop().execute(() -> {
        List<TrunkStream> moving = new ArrayList<>();
        List<long[]> owned = new ArrayList<>();
        for (TrunkStream s : p.streams()) {
          if (s.isSuspended() && !s.isClosed()) {
            owned.add(new long[] {s.pendingBytes(), s.unwrittenReceivedBytes(), Math.max(0, s.extraWindow())});
            s.moveTo(this);
            moving.add(s);
          }
        }
        eventLoop().execute(() -> {
          adopt(moving, owned);
          if (--left[0] == 0) {
            sendResume();
          }
        });
      });
    }
  }

  private void adopt(List<TrunkStream> moving, List<long[]> owned) {
    for (int i = 0; i < moving.size(); i++) {
      TrunkStream s = moving.get(i);
      long[] o = owned.get(i);
      bufferedSend += o[0];
      bufferedRecv += o[1];
      windowReserved += o[2];
      if (s.isClosed()) {
        continue; // closed on this loop between the move and now (its gauges are done)
      }
      if (inactive || failed) {
        s.abortSuspended(ErrorCode.CONNECTION_LOST, "replacement connection closed");
        peer.resumeReset("connection_lost");
        continue;
      }
      streams.put(s.id(), s);
      awaitingPeerResume.put(s.id(), s);
    }
  }

  private void sendResume() {
    if (inactive) {
      return;
    }
    List<Resume.Entry> entries = new ArrayList<>();
    int max = Resume.maxEntries(settings.maxFramePayload);
    if (awaitingPeerResume != null) {
      for (TrunkStream s : new ArrayList<>(awaitingPeerResume.values())) {
        if (s.isClosed()) {
          awaitingPeerResume.remove(s.id());
        } else if (entries.size() >= max) {
          awaitingPeerResume.remove(s.id());
          peer.resumeReset("too_many");
          s.abortSuspended(ErrorCode.CONNECTION_LOST, "too many streams to resume");
        } else {
          entries.add(s.resumeEntry());
        }
      }
    }
    writeFrame(new Frame(FrameType.RESUME, 0, 0, new Resume(nextLocalId, entries).encode(alloc())));
    resumeSent = true;
    ready();
    List<Frame> q = queuedUntilResume;
    queuedUntilResume = null;
    if (q != null) {
      for (Frame f : q) {
        try {
          handle(f);
        } catch (ProtocolViolation v) {
          failConnection(v);
        } catch (RuntimeException e) {
          LOG.warn("trunk {}: error in a queued frame, closing", peer.name(), e);
          ctx.close();
        }
      }
    }
  }

  /** The peer's RESUME: checks every entry, then resumes what both sides kept and resets the rest. */
  private void onResume(ByteBuf payload) {
    if (!resumeNegotiated || peerResumeSeen) {
      throw new ProtocolViolation("unexpected_resume", resumeNegotiated ? "second RESUME" : "RESUME not negotiated");
    }
    peerResumeSeen = true;
    Resume r = Resume.decode(payload);
    int peerNext = r.nextLocalId();
    boolean peerOdd = !initiator;
    if (((peerNext & 1) == 1) != peerOdd || peerNext == 0) {
      throw new ProtocolViolation("bad_resume", "peer's next stream id " + Integer.toUnsignedString(peerNext)
          + " has the wrong parity");
    }
    IntObjectHashMap<TrunkStream> mine = awaitingPeerResume == null ? new IntObjectHashMap<>() : awaitingPeerResume;
    awaitingPeerResume = null;
    IntObjectHashMap<Resume.Entry> theirs = new IntObjectHashMap<>();
    for (Resume.Entry e : r.entries()) {
      int id = e.streamId();
      TrunkStream s = mine.get(id);
      if (s == null) {
        boolean ours = (id & 1) == (initiator ? 1 : 0);
        boolean existed = id != 0 && (ours ? Integer.compareUnsigned(id, nextLocalId) < 0
            : Integer.compareUnsigned(id, peerNext) < 0);
        if (!existed) {
          throw new ProtocolViolation("unknown_stream", "RESUME for stream " + Integer.toUnsignedString(id)
              + " that was never opened");
        }
        continue; // ended here: absent from our RESUME, so the peer resets its side
      }
      if (theirs.put(id, e) != null) {
        throw new ProtocolViolation("bad_resume", "stream " + Integer.toUnsignedString(id) + " twice in RESUME");
      }
      if (!s.isClosed()) {
        s.checkResume(e);
      }
    }
    if (Integer.compareUnsigned(peerNext - 2, lastRemoteId) > 0 && peerNext > 2) {
      lastRemoteId = peerNext - 2;
    }
    int resumed = 0;
    for (TrunkStream s : new ArrayList<>(mine.values())) {
      if (s.isClosed()) {
        continue;
      }
      Resume.Entry e = theirs.get(s.id());
      if (e == null) {
        peer.resumeReset("unknown_to_peer");
        s.abortSuspended(ErrorCode.CONNECTION_LOST, "the peer no longer has this stream");
      } else {
        peer.streamsSuspended.decrementAndGet();
        peer.streamsResumed.increment();
        resumed++;
        s.resume(e);
      }
    }
    if (resumed > 0 || !mine.isEmpty()) {
      LOG.info("trunk {}: resumed {} of {} suspended streams", peer.name(), resumed, mine.size());
    }
  }

  void streamClosed(TrunkStream s) {
    if (streams.remove(s.id()) != null) {
      peer.streamsActive.decrementAndGet();
      closeIfDrained();
    }
  }

  private void closeIfDrained() {
    if (isDraining() && streams.isEmpty() && !inactive) {
      ctx.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Both nodes keep chunk stores: TCP streams of this connection are de-duplicated. */
  private boolean dedupOffered() {
    return dedup != null && (remoteHello.capabilities() & Hello.CAP_DEDUP) != 0;
  }

  private StreamDedup newDedup(TrunkStream s) {
    net.wanrelay.channel.dedup.ChunkStore store = dedup.store(peerNodeId());
    if (store == null) {
      return null;
    }
    // A token may be a whole 64 KiB chunk: payloads must hold one (the peer accepts 256 KiB).
    int maxPayload = Math.min(settings.maxFramePayload, Math.max(settings.maxDataFrame, 80 * 1024));
    return new StreamDedup(store, dedup.settings(), dedup.metrics(), alloc(), maxPayload, s.dedupSink());
  }

  long dedupFlushDelayNanos() {
    return dedup == null ? 0 : dedup.settings().flushDelay().toNanos();
  }

  private int outboundCodec(boolean wanted) {
    CompressionCodec c = compression.codec();
    if (!wanted || c == CompressionCodec.NONE) {
      return 0;
    }
    int cap = c == CompressionCodec.LZ4 ? Hello.CAP_LZ4 : Hello.CAP_ZSTD;
    return (remoteHello.capabilities() & cap) != 0 ? c.id() : 0;
  }

  private AdaptiveCompressor compressorFor(OpenRequest req) {
    if (req.protocol() != StreamProtocol.TCP || req.compressionCodec() == 0 || outboundCodec(true) == 0) {
      return null;
    }
    AdaptiveCompressor c = new AdaptiveCompressor(compression);
    if (compressibility.prime(req.destination(), c)) {
      peer.compressionPresumedIncompressible.increment();
    }
    return c;
  }

  private void failConnection(ProtocolViolation v) {
    if (failed) {
      return;
    }
    failed = true;
    metrics.protocolError(v.reason());
    LOG.warn("trunk {}: protocol error, closing: {}", peer.name(), v.getMessage());
    if (ctx.channel().isActive()) {
      ctx.writeAndFlush(Frames.goAway(alloc(), lastRemoteId, v.code(), v.reason()))
          .addListener(ChannelFutureListener.CLOSE);
    }
  }
}
