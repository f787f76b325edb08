package net.wanrelay.channel;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.OpenRequest;
import net.wanrelay.channel.frame.StreamProtocol;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CP side of one configured peer: keeps {@link PeerSpec#connections()} authenticated trunk
 * connections up (reconnecting with exponential backoff and jitter), spreads new streams over
 * them and bridges local sockets and UDP flows onto streams. Connection {@code i} lives on event
 * loop {@code i} of the node's group, and a client socket's stream prefers the connection on the
 * socket's own loop: the bridge then runs without a thread hop per event. Thread-safe.
 */
public final class PeerLink {
  private static final Logger LOG = LoggerFactory.getLogger(PeerLink.class);

  private final TrunkNode node;
  private final PeerSpec spec;
  private final TrunkMetrics.Peer metrics;
  private final Slot[] slots;
  private final List<EventLoop> loops = new ArrayList<>();
  private volatile boolean stopped;
  // Where the next connect goes: the configured host (a name is resolved again on every attempt)
  // until the peer announces a new trunk address from a connection it made to us.
  private volatile String host;
  private volatile int port;
  private volatile String peerNodeId;
  private volatile InetSocketAddress lastRemote;

  PeerLink(TrunkNode node, PeerSpec spec) {
    this.node = node;
    this.spec = spec;
    this.metrics = node.metrics().peer(spec.name());
    node.group().forEach(e -> loops.add((EventLoop) e));
    this.host = spec.host();
    this.port = spec.port();
    this.slots = new Slot[spec.connections()];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = new Slot(i);
    }
  }

  public String name() { return spec.name(); }
  public PeerSpec spec() { return spec; }
  public TrunkMetrics.Peer metrics() { return metrics; }
  /** The address connects go to now (the configured one until the peer announced another). */
  public InetSocketAddress target() { return InetSocketAddress.createUnresolved(host, port); }
  /** Node id of the peer on the last authenticated connection, or null before the first. */
  public String peerNodeId() { return peerNodeId; }
  /** Resolved address of the last authenticated connection, or null before the first. */
  public InetSocketAddress lastRemoteAddress() { return lastRemote; }

  /**
   * The peer now accepts trunk connections at {@code address}: later connects go there. Slots that
   * are down connect at once instead of waiting out their backoff; connections that are up stay.
   * Returns false when the link already pointed there.
   */
  public boolean retarget(InetSocketAddress address) {
    String h = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    synchronized (this) {
      if (h.equals(host) && address.getPort() == port) {
        return false;
      }
      host = h;
      port = address.getPort();
    }
    LOG.info("trunk {}: peer {} moved, connecting to {}:{} from now on", spec.name(), peerNodeId, h, address.getPort());
    for (Slot s : slots) {
      s.reconnectNow();
    }
    return true;
  }

  /** True while at least one authenticated connection is up. */
  public boolean isUp() {
    for (Slot s : slots) {
      if (s.conn != null) {
        return true;
      }
    }
    return false;
  }

  /** Authenticated connections currently up. */
  public int connectionsUp() {
    int n = 0;
    for (Slot s : slots) {
      if (s.conn != null) {
        n++;
      }
    }
    return n;
  }

  /** Current connections (for tests and admin views). */
  public List<TrunkConnection> connections() {
    List<TrunkConnection> l = new ArrayList<>();
    for (Slot s : slots) {
      TrunkConnection c = s.conn;
      if (c != null) {
        l.add(c);
      }
    }
    return l;
  }

  /**
   * Bridges an accepted client TCP socket to a new stream to {@code destination}. The channel
   * should have AUTO_READ off from the start (relay-core: child option); the bridge turns on
   * ALLOW_HALF_CLOSURE. The future completes on OPEN_ACK, or fails with
   * {@link TrunkOpenException} / IOException, in which case the client was closed with a RST.
   * Data the client sent is forwarded at once (0-RTT).
   */
  public Future<TrunkStream> openTcp(Channel client, InetSocketAddress destination, InetSocketAddress source) {
    TrunkConnection conn = pick(client.eventLoop());
    EventLoop loop = conn != null ? conn.eventLoop() : client.eventLoop();
    Promise<TrunkStream> opened = loop.newPromise();
    TcpStreamBridge bridge = TcpStreamBridge.prepare(client, loop, opened);
    loop.execute(() -> {
      if (conn == null) {
        bridge.failBeforeOpen("trunk to " + spec.name() + " is down");
        return;
      }
      TrunkStream s = conn.open(new OpenRequest(StreamProtocol.TCP, destination, source, 0), bridge);
      if (s == null) {
        bridge.failBeforeOpen("trunk connection to " + spec.name() + " takes no new streams");
        return;
      }
      bridge.attach(s);
    });
    return opened;
  }

  /** Opens a UDP flow; replies arrive at {@code receiver} on the trunk event loop. */
  public UdpFlow openUdp(InetSocketAddress destination, InetSocketAddress source, UdpFlow.Receiver receiver) {
    return UdpFlow.open(pick(), node.group().next(), destination, source, receiver);
  }

  /** Opens a raw stream with a custom listener; runs on the chosen connection's loop. */
  public Future<TrunkStream> openStream(OpenRequest request, StreamListener listener) {
    TrunkConnection conn = pick();
    if (conn == null) {
      return node.group().next().newFailedFuture(new TrunkOpenException(ErrorCode.BUSY, "trunk down"));
    }
    Promise<TrunkStream> p = conn.eventLoop().newPromise();
    conn.eventLoop().execute(() -> {
      TrunkStream s = conn.open(request, listener);
      if (s == null) {
        p.setFailure(new TrunkOpenException(ErrorCode.BUSY, "connection takes no new streams"));
      } else {
        p.setSuccess(s);
      }
    });
    return p;
  }

  /**
   * The usable connection on {@code preferred} unless it carries far more streams than the least
   * loaded one (then that one): a same-loop stream costs no thread hop per event.
   */
  TrunkConnection pick(EventLoop preferred) {
    TrunkConnection least = pick();
    if (least == null || least.eventLoop() == preferred) {
      return least;
    }
    int slack = 2 * least.activeStreams() + 64;
    for (Slot s : slots) {
      TrunkConnection c = s.conn;
      if (c != null && c.eventLoop() == preferred && c.isUsable() && c.activeStreams() <= slack) {
        return c;
      }
    }
    return least;
  }

  /** The usable connection with the fewest streams (racy read; a heuristic is enough). */
  TrunkConnection pick() {
    TrunkConnection best = null;
    int bestLoad = Integer.MAX_VALUE;
    int start = ThreadLocalRandom.current().nextInt(slots.length);
    for (int i = 0; i < slots.length; i++) {
      TrunkConnection c = slots[(start + i) % slots.length].conn;
      if (c != null && c.isUsable()) {
        int load = c.activeStreams();
        if (load < bestLoad) {
          best = c;
          bestLoad = load;
        }
      }
    }
    return best;
  }

  void start() {
    for (Slot s : slots) {
      s.connect();
    }
  }

  /** Stops reconnecting; the node drains and closes the connections themselves. */
  void stopReconnecting() {
    stopped = true;
    for (Slot s : slots) {
      s.stop();
    }
  }

  /** One of the N parallel connections, reconnecting on its own. */
  private final class Slot {
    private final int index;
    // Identifies this slot's logical connection to the peer across reconnects (resumption).
    private final long token = ResumeRegistry.newToken();
    private volatile TrunkConnection conn;
    private volatile Channel channel;
    private int failures;
    private ScheduledFuture<?> retry;

    Slot(int index) {
      this.index = index;
    }

    void connect() {
      if (stopped) {
        return;
      }
      Bootstrap b = new Bootstrap().group(loops.get(index % loops.size()))
          .channelFactory(Transports.socketChannels(node.group()))
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) node.settings().connectTimeout.toMillis())
          .handler(node.trunkInitializer(true, spec.key(), spec.name(), this::authenticated, token));
      ChannelFuture f = b.connect(host, port);
      channel = f.channel();
      Channel ch = f.channel();
      f.addListener((ChannelFutureListener) cf -> {
        if (!cf.isSuccess()) {
          LOG.debug("trunk {}#{}: connect failed: {}", spec.name(), index, cf.cause().toString());
          scheduleRetry(ch.eventLoop());
        }
      });
      ch.closeFuture().addListener(cf -> lost(ch));
    }

    private void authenticated(TrunkConnection c) {
      if (stopped) {
        c.channel().eventLoop().execute(() -> c.goAway(ErrorCode.GOING_AWAY, "shutting down"));
        return;
      }
      failures = 0;
      conn = c;
      peerNodeId = c.peerNodeId();
      if (c.channel().remoteAddress() instanceof InetSocketAddress a) {
        lastRemote = a;
      }
      c.onGoAway(this::peerGoingAway);
      LOG.info("trunk {}#{}: up to {} ({})", spec.name(), index, c.peerNodeId(), c.channel().remoteAddress());
    }

    /** Peer is draining this connection: stop using it and bring up a replacement. */
    private void peerGoingAway(TrunkConnection c) {
      if (conn == c) {
        conn = null;
        channel = null;
        metrics.reconnects.increment();
        scheduleRetry(c.eventLoop());
      }
    }

    private void lost(Channel ch) {
      if (channel != ch) {
        return; // an old draining connection finished
      }
      boolean wasUp = conn != null;
      conn = null;
      channel = null;
      if (stopped) {
        return;
      }
      if (wasUp) {
        LOG.warn("trunk {}#{}: connection lost, reconnecting", spec.name(), index);
        metrics.reconnects.increment();
      }
      scheduleRetry(ch.eventLoop());
    }

    private synchronized void scheduleRetry(EventLoop loop) {
      if (stopped || retry != null && !retry.isDone()) {
        return;
      }
      long min = node.settings().reconnectMin.toMillis();
      long max = node.settings().reconnectMax.toMillis();
      long base = Math.min(max, min << Math.min(failures, 20));
      failures++;
      // Jitter between half and the full delay, so N links do not reconnect in lockstep.
      long delay = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
      retry = loop.schedule(() -> {
        if (channel == null || !channel.isOpen()) {
          connect();
        }
      }, delay, TimeUnit.MILLISECONDS);
    }

    /** Down and waiting for a retry: connect now (a new target is worth trying at once). */
    synchronized void reconnectNow() {
      if (stopped || conn != null || channel != null && channel.isOpen()) {
        return;
      }
      if (retry != null) {
        retry.cancel(false);
      }
      failures = 0;
      node.group().next().execute(this::connect);
    }

    synchronized void stop() {
      if (retry != null) {
        retry.cancel(false);
      }
    }
  }
}
