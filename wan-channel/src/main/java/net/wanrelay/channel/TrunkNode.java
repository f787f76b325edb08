package net.wanrelay.channel;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.wanrelay.channel.compress.CompressionMetrics;
import net.wanrelay.channel.compress.CompressionSettings;
import net.wanrelay.channel.compress.Decompressor;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.FrameDecoder;
import net.wanrelay.channel.frame.FrameEncoder;
import net.wanrelay.channel.frame.Hello;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Facade of the trunk for relay-core: one node accepts peers (SP role, when {@link Builder#listen}
 * is set) and keeps links to configured peers (CP role). Both roles can be on at once.
 *
 * <pre>{@code
 * TrunkNode node = TrunkNode.builder()
 *     .nodeId("branch-1").eventLoopGroup(group).meterRegistry(registry)
 *     .listen(new InetSocketAddress("0.0.0.0", 7800)).serverKey(key)   // SP role
 *     .allow(List.of("10.2.0.0/16", "10.3.0.0/16:443"))                 // SP allow-list
 *     .peer(new PeerSpec("hq", "hq.example.net", 7800, key, 2))         // CP role
 *     .congestionControl("bbr").compression("adaptive")
 *     .build();
 * node.start();
 * node.link("hq").openTcp(clientChannel, originalDst, originalSrc);
 * PeerLink.openUdp(dst, src, receiver) for UDP flows;
 * node.shutdown(Duration.ofSeconds(10));   // GOAWAY, drain, then close
 * }</pre>
 */
public final class TrunkNode {
  private static final Logger LOG = LoggerFactory.getLogger(TrunkNode.class);

  private final String nodeId;
  private final EventLoopGroup group;
  private final boolean ownGroup;
  private final TrunkMetrics metrics;
  private final TrunkSettings settings;
  private final InetSocketAddress listen;
  private final byte[] serverKey;
  private final AllowList allow;
  private final CompressionSettings compression;
  private final Decompressor decompressor;
  private final StreamAcceptor acceptor;
  private final TrunkTls tls;
  private final DedupPeers dedup;
  private final ResumeRegistry resume;
  private final Map<String, PeerLink> links = new LinkedHashMap<>();
  private final ChannelGroup trunkChannels = new DefaultChannelGroup("trunk", GlobalEventExecutor.INSTANCE);
  private Channel serverChannel;
  private volatile boolean stopping;
  private final InetSocketAddress advertise;
  private volatile InetSocketAddress announced;
  private final List<PeerMoved> movedListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A peer announced a new trunk address on a connection it made to this node. */
  @FunctionalInterface
  public interface PeerMoved {
    /**
     * @param from the resolved address the link to that peer used last, or null when no link of
     *     this node knows the peer
     * @param to the announced address (links of this node already point there)
     */
    void moved(String peerNodeId, InetSocketAddress from, InetSocketAddress to);
  }

  private TrunkNode(Builder b) {
    this.nodeId = b.nodeId;
    this.ownGroup = b.group == null;
    this.group = ownGroup ? Transports.newGroup(2) : b.group;
    this.metrics = TrunkMetrics.forRegistry(b.registry);
    TrunkSettings s = b.settings;
    if (b.congestionControl != null) {
      s = s.toBuilder().congestionControl(b.congestionControl).build();
    }
    this.settings = s;
    this.listen = b.listen;
    this.advertise = b.advertise;
    this.tls = b.tls;
    this.serverKey = b.serverKey;
    this.allow = b.allow;
    this.compression = b.compression;
    CompressionMetrics cm = new CompressionMetrics();
    this.decompressor = new Decompressor(cm);
    this.resume = settings.resumeGrace.isZero() ? null : new ResumeRegistry(settings.resumeGrace);
    this.dedup = b.dedup != null && b.dedup.enabled() ? new DedupPeers(b.dedup, b.registry) : null;
    StreamAcceptor a = b.acceptor != null ? b.acceptor
        : allow.isEmpty() ? null : new ServerLegAcceptor(settings, allow, b.resolver, metrics);
    this.acceptor = a != null && b.acceptorWrapper != null ? b.acceptorWrapper.apply(a) : a;
    for (PeerSpec p : b.peers) {
      if (links.put(p.name(), new PeerLink(this, p)) != null) {
        throw new IllegalArgumentException("duplicate peer " + p.name());
      }
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  public String nodeId() { return nodeId; }
  public TrunkMetrics metrics() { return metrics; }
  public TrunkSettings settings() { return settings; }
  EventLoopGroup group() { return group; }

  /** The link to a configured peer; IllegalArgumentException when unknown. */
  public PeerLink link(String peerName) {
    PeerLink l = links.get(peerName);
    if (l == null) {
      throw new IllegalArgumentException("no trunk peer named '" + peerName + "' (known: " + links.keySet() + ")");
    }
    return l;
  }

  public Collection<PeerLink> links() {
    return List.copyOf(links.values());
  }

  /** Authenticated trunk connections of this node, inbound and outbound. */
  public List<TrunkConnection> connections() {
    List<TrunkConnection> l = new ArrayList<>();
    for (Channel ch : trunkChannels) {
      TrunkConnection c = ch.pipeline().get(TrunkConnection.class);
      if (c != null) {
        l.add(c);
      }
    }
    return l;
  }

  /** Address the SP listener is bound to (resolves port 0), or null without a listener. */
  public InetSocketAddress boundAddress() {
    return serverChannel == null ? null : (InetSocketAddress) serverChannel.localAddress();
  }

  /** Called (on a trunk event loop) whenever a peer announces that it moved. */
  public void onPeerMoved(PeerMoved listener) {
    movedListeners.add(listener);
  }

  /** The trunk address this node announces to its peers, or null (no listener, or a wildcard one). */
  public InetSocketAddress announcedAddress() {
    return announced;
  }

  /**
   * An ANNOUNCE from a peer. Only one from a connection the peer made counts: the peer came back
   * from elsewhere, and links to it follow. On a connection this node made, the address it dialed
   * works already (it may be a name or a NAT address the peer cannot know), so nothing changes.
   */
  private void peerAnnounced(TrunkConnection c, InetSocketAddress to) {
    if (c.isInitiator()) {
      LOG.debug("trunk: peer {} announces {} (we dialed it; link unchanged)", c.peerNodeId(), to);
      return;
    }
    boolean known = false;
    for (PeerLink l : links.values()) {
      if (c.peerNodeId().equals(l.peerNodeId())) {
        known = true;
        InetSocketAddress from = l.lastRemoteAddress();
        if (l.retarget(to)) {
          movedListeners.forEach(m -> m.moved(c.peerNodeId(), from, to));
        }
      }
    }
    if (!known) {
      movedListeners.forEach(m -> m.moved(c.peerNodeId(), null, to));
    }
  }

  /** Binds the listener (blocking) and starts connecting to peers. */
  public TrunkNode start() throws InterruptedException {
    if (listen != null) {
      ServerBootstrap sb = new ServerBootstrap().group(group)
          .channel(Transports.serverChannel(group))
          .option(ChannelOption.SO_REUSEADDR, true)
          .option(ChannelOption.SO_BACKLOG, 1024)
          .childHandler(trunkInitializer(false, serverKey, null, c -> {}));
      serverChannel = sb.bind(listen).sync().channel();
      LOG.info("trunk node {} accepting peers on {}", nodeId, serverChannel.localAddress());
      InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
      announced = advertise != null ? advertise : bound.getAddress().isAnyLocalAddress() ? null : bound;
    } else {
      announced = advertise;
    }
    for (PeerLink l : links.values()) {
      l.start();
    }
    return this;
  }

  /**
   * Graceful stop: no new peers, GOAWAY on every trunk connection (no new streams either way),
   * waits up to {@code drain} for open streams to finish, then closes what is left (its streams
   * are reset). Blocks; shuts down the event loop group if the node created it.
   */
  public void shutdown(Duration drain) {
    stopping = true;
    if (resume != null) {
      resume.close(); // suspended streams are reset; connections closed from now on do not park
    }
    if (serverChannel != null) {
      serverChannel.close().awaitUninterruptibly();
    }
    for (PeerLink l : links.values()) {
      l.stopReconnecting();
    }
    List<Channel> open = new ArrayList<>(trunkChannels);
    for (Channel ch : open) {
      TrunkConnection c = ch.pipeline().get(TrunkConnection.class);
      if (c != null) {
        ch.eventLoop().execute(() -> c.goAway(ErrorCode.GOING_AWAY, "node shutting down"));
      } else {
        ch.close();
      }
    }
    long deadline = System.nanoTime() + drain.toNanos();
    for (Channel ch : open) {
      long left = deadline - System.nanoTime();
      if (left <= 0 || !ch.closeFuture().awaitUninterruptibly(left, TimeUnit.NANOSECONDS)) {
        break;
      }
    }
    // Streams still open are reset explicitly: the peer must not wait to resume them.
    for (Channel ch : new ArrayList<>(trunkChannels)) {
      TrunkConnection c = ch.pipeline().get(TrunkConnection.class);
      if (c != null) {
        ch.eventLoop().execute(c::resetAllAndClose);
      } else {
        ch.close();
      }
    }
    for (Channel ch : new ArrayList<>(trunkChannels)) {
      ch.closeFuture().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }
    trunkChannels.close().awaitUninterruptibly();
    if (dedup != null) {
      dedup.close(); // after the connections: releases the store directories' locks for a restart
    }
    if (ownGroup) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
    LOG.info("trunk node {} stopped", nodeId);
  }

  /** Pipeline of a trunk socket: byte counter, frame codec, PSK handshake, then the mux. */
  ChannelHandler trunkInitializer(boolean initiator, byte[] key, String peerName, Consumer<TrunkConnection> onUp) {
    return trunkInitializer(initiator, key, peerName, onUp, 0);
  }

  /**
   * @param resumeToken initiator: the connection slot's token (a replacement connection resumes
   *     the streams of the lost one with the same token)
   */
  ChannelHandler trunkInitializer(boolean initiator, byte[] key, String peerName, Consumer<TrunkConnection> onUp,
      long resumeToken) {
    return new ChannelInitializer<Channel>() {
      @Override
      protected void initChannel(Channel ch) {
        if (stopping) {
          ch.close();
          return;
        }
        trunkChannels.add(ch);
        SocketTuning.applyTrunk(ch, settings);
        WireByteCounter counter = new WireByteCounter();
        int caps = Hello.CAP_LZ4 | Hello.CAP_ZSTD | Hello.CAP_UDP | Hello.CAP_ANNOUNCE
            | (dedup != null ? Hello.CAP_DEDUP : 0) | (resume != null ? Hello.CAP_RESUME : 0);
        ch.pipeline().addLast("bytes", counter);
        if (tls != null) {
          io.netty.handler.ssl.SslContext ctx = initiator ? tls.client() : tls.server();
          if (ctx == null) {
            throw new IllegalStateException("TLS configured without a " + (initiator ? "client" : "server") + " context");
          }
          ch.pipeline().addLast("tls", ctx.newHandler(ch.alloc()));
        }
        ch.pipeline()
            .addLast("frame-decoder", new FrameDecoder(settings.maxFramePayload))
            .addLast("frame-encoder", new FrameEncoder())
            .addLast("handshake", new PskHandshakeHandler(initiator, nodeId, key, settings, caps, metrics,
                (ctx, local, remote) -> {
                  TrunkMetrics.Peer peer = metrics.peer(initiator ? peerName : remote.nodeId());
                  counter.peer(peer);
                  String resumeKey = resume == null ? null : initiator
                      ? ResumeRegistry.initiatorKey(peerName, resumeToken)
                      : ResumeRegistry.acceptorKey(remote.nodeId(), remote.incarnation(), remote.resumeToken());
                  TrunkConnection c = new TrunkConnection(settings, initiator, remote, metrics, peer, acceptor,
                      compression, decompressor, dedup, resume, resumeKey);
                  c.onAnnounce(TrunkNode.this::peerAnnounced);
                  c.onReady(conn -> {
                    InetSocketAddress a = announced;
                    if (a != null) {
                      conn.announce(a); // first frame after auth: the peer learns where we listen
                    }
                    onUp.accept(conn);
                  });
                  return c;
                }, resume == null ? 0 : resume.incarnation(), resume == null ? 0 : resumeToken));
      }
    };
  }

  /** Builder; see the class comment. */
  public static final class Builder {
    private String nodeId;
    private EventLoopGroup group;
    private MeterRegistry registry;
    private InetSocketAddress listen;
    private byte[] serverKey;
    private AllowList allow = AllowList.none();
    private final List<PeerSpec> peers = new ArrayList<>();
    private TrunkSettings settings = TrunkSettings.defaults();
    private String congestionControl;
    private CompressionSettings compression = CompressionSettings.OFF;
    private DestinationResolver resolver = DestinationResolver.IDENTITY;
    private StreamAcceptor acceptor;
    private java.util.function.UnaryOperator<StreamAcceptor> acceptorWrapper;
    private TrunkTls tls;
    private DedupSettings dedup;
    private InetSocketAddress advertise;

    /** This node's id, sent in HELLO and used by peers as their metric tag (1..64 bytes). */
    public Builder nodeId(String v) { nodeId = v; return this; }
    /** Event loops for trunk sockets and SP server legs; without it the node makes its own. */
    public Builder eventLoopGroup(EventLoopGroup v) { group = v; return this; }
    public Builder meterRegistry(MeterRegistry v) { registry = v; return this; }
    /** SP role: accept peers on this address. */
    public Builder listen(InetSocketAddress v) { listen = v; return this; }
    /** PSK inbound peers must prove (at least 16 bytes). */
    public Builder serverKey(byte[] v) { serverKey = v.clone(); return this; }
    public Builder serverKey(String v) { return serverKey(v.getBytes(StandardCharsets.UTF_8)); }
    /** SP allow-list entries ({@code CIDR} or {@code CIDR:port}); without it every OPEN is denied. */
    public Builder allow(List<String> entries) { allow = AllowList.parse(entries); return this; }
    /** CP role: keep a link to this peer. */
    public Builder peer(PeerSpec v) { peers.add(v); return this; }
    public Builder settings(TrunkSettings v) { settings = v; return this; }
    /** TCP congestion control of trunk sockets, e.g. "bbr" (falls back with a log line). */
    public Builder congestionControl(String v) { congestionControl = v; return this; }
    /** off | lz4 | zstd | adaptive: how this node compresses the DATA it sends. */
    public Builder compression(String v) { compression = CompressionSettings.parse(v); return this; }
    /** SP hook to rewrite or refuse destinations before the allow-list check. */
    public Builder destinationResolver(DestinationResolver v) { resolver = v; return this; }
    /** Wraps every trunk connection in TLS 1.3 with mutual certificates (PSK still required). */
    public Builder tls(TrunkTls v) { tls = v; return this; }
    /**
     * De-duplicate TCP streams to peers that also enable it (off by default): one chunk store per
     * peer node id under {@link DedupSettings#store()}; metrics {@code wanrelay_dedup_*}.
     */
    public Builder dedup(DedupSettings v) { dedup = v; return this; }
    /**
     * The trunk address announced to peers (ANNOUNCE after auth); default: the bound listen
     * address unless it is a wildcard. A peer that reconnects to us from elsewhere is followed.
     */
    public Builder advertise(InetSocketAddress v) { advertise = v; return this; }
    /** Replaces the default SP acceptor (server legs + allow-list) entirely, e.g. in tests. */
    public Builder streamAcceptor(StreamAcceptor v) { acceptor = v; return this; }
    /** Wraps the acceptor (default or given), e.g. to admit streams against a session limit first. */
    public Builder wrapAcceptor(java.util.function.UnaryOperator<StreamAcceptor> v) { acceptorWrapper = v; return this; }

    public TrunkNode build() {
      if (nodeId == null || nodeId.isEmpty() || nodeId.getBytes(StandardCharsets.UTF_8).length > Hello.MAX_NODE_ID) {
        throw new IllegalArgumentException("nodeId must be 1..64 bytes");
      }
      if (listen != null && (serverKey == null || serverKey.length < 16)) {
        throw new IllegalArgumentException("a listening node needs a serverKey of at least 16 bytes");
      }
      return new TrunkNode(this);
    }
  }
}
