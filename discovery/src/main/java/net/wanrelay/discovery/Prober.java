package net.wanrelay.discovery;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import net.wanrelay.discovery.nfqueue.NfQueueWorker;
import net.wanrelay.discovery.nfqueue.NfqMessages;
import net.wanrelay.discovery.nfqueue.PacketHandler;
import net.wanrelay.discovery.nfqueue.Verdict;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeOptionCodec;
import net.wanrelay.discovery.option.ProbeRequest;
import net.wanrelay.discovery.option.ProbeResponse;
import net.wanrelay.discovery.packet.Ipv4TcpPacket;
import net.wanrelay.discovery.packet.ParseResult;
import net.wanrelay.discovery.packet.TcpOption;
import net.wanrelay.discovery.packet.TcpOptionInserter;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import net.wanrelay.discovery.pmt.PmtKey;
import net.wanrelay.discovery.syn.SocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CP side of discovery. {@link #probe} opens the probe connection to the server (marked so
 * the SYN is queued, from the client's address when transparent); {@link #synWriter()} serves the
 * SYN queue and adds the probe option; {@link #synAckReader()} serves the SYN-ACK queue and reads
 * the response, which {@link #probe} finds by 4-tuple once the connection completes (the reader
 * runs before the kernel delivers the SYN-ACK to the socket, so the order is certain).
 *
 * <p>Epoll only (SO_MARK and IP_TRANSPARENT); needs CAP_NET_ADMIN.
 */
public final class Prober implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Prober.class);

  /**
   * @param format the option kind/ExID
   * @param probeMark SO_MARK of probe sockets: the OUTPUT rule queues SYNs with it
   * @param probeTimeout connect timeout of the probe (covers SYN retransmits: 1 s, 3 s, ...)
   * @param retryTimeout connect timeout of the plain retry after a probe timed out
   * @param transparent bind to the client's address (IP_TRANSPARENT) so the server sees it
   */
  public record Config(OptionFormat format, int probeMark, Duration probeTimeout, Duration retryTimeout,
      boolean transparent) {
    public static Config defaults() {
      return new Config(OptionFormat.DEFAULT, 0x77, Duration.ofSeconds(3), Duration.ofSeconds(3), true);
    }
  }

  /** State of one probe in flight, filled by the SYN writer and the SYN-ACK reader threads. */
  private static final class Pending {
    final long nonce;
    final int flags;
    volatile ProbeResponse response;
    volatile boolean optionSent;

    Pending(long nonce, int flags) {
      this.nonce = nonce;
      this.flags = flags;
    }
  }

  private static final java.net.InetAddress ANY_V4 = new InetSocketAddress("0.0.0.0", 0).getAddress();

  private final EventLoopGroup group;
  private final Config config;
  private final ProbeOptionCodec codec;
  private final DiscoveryCounters counters;
  private final MeterRegistry registry;
  private final Map<FourTuple, Pending> pending = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private NfQueueWorker synQueue;
  private NfQueueWorker synAckQueue;

  public Prober(EventLoopGroup epollGroup, Config config, MeterRegistry registry) {
    this.group = epollGroup;
    this.config = config;
    this.codec = new ProbeOptionCodec(config.format());
    this.counters = new DiscoveryCounters(registry);
    this.registry = registry;
  }

  /** Binds the two queues in this process's network namespace (see KernelRulesWriter). */
  public Prober startQueues(int synQueueNumber, int synAckQueueNumber) throws IOException {
    synQueue = NfQueueWorker.start(synQueueNumber, synWriter(), registry);
    try {
      synAckQueue = NfQueueWorker.start(synAckQueueNumber, synAckReader(), registry);
    } catch (IOException e) {
      synQueue.close();
      throw e;
    }
    return this;
  }

  /** Handler for the queue of outgoing probe SYNs: adds the probe option. */
  public PacketHandler synWriter() {
    return this::writeProbe;
  }

  /** Handler for the queue of incoming SYN-ACKs carrying our option kind: reads the response. */
  public PacketHandler synAckReader() {
    return this::readResponse;
  }

  private Verdict writeProbe(NfqMessages.Packet queued) {
    ParseResult<Ipv4TcpPacket> parsed = Ipv4TcpPacket.parse(queued.payload());
    if (!parsed.isOk()) {
      counters.inc("syn_unparseable");
      return Verdict.accept();
    }
    Ipv4TcpPacket syn = parsed.value();
    if (!syn.isSyn()) {
      counters.inc("syn_writer_not_syn");
      return Verdict.accept();
    }
    Pending p = pendingFor(syn.sourceSocket(), syn.destinationSocket());
    long nonce = p != null ? p.nonce : random.nextInt() & 0xffffffffL;
    int flags = p != null ? p.flags : ProbeRequest.FLAG_CLUSTER_OK;
    byte[] option = codec.encodeRequest(new ProbeRequest(ProbeOptionCodec.VERSION, flags, nonce));
    TcpOptionInserter.Result r = TcpOptionInserter.insert(queued.payload(), option);
    if (!r.changed()) {
      counters.inc("probe_not_added");
      log.debug("probe option not added to {}: {}", syn, r.reason());
      return Verdict.accept();
    }
    if (p != null) {
      p.optionSent = true;
    }
    counters.inc(p != null ? "probe_added" : "probe_added_untracked");
    return Verdict.accept(r.packet());
  }

  private Verdict readResponse(NfqMessages.Packet queued) {
    ParseResult<Ipv4TcpPacket> parsed = Ipv4TcpPacket.parse(queued.payload());
    if (!parsed.isOk()) {
      counters.inc("synack_unparseable");
      return Verdict.accept();
    }
    Ipv4TcpPacket synAck = parsed.value();
    java.util.Optional<TcpOption> ours = codec.findOurs(synAck.options().value());
    if (!synAck.isSynAck() || ours.isEmpty()) {
      counters.inc("synack_without_response");
      return Verdict.accept();
    }
    ParseResult<ProbeResponse> response = codec.decodeResponse(ours.get());
    if (!response.isOk()) {
      counters.inc("response_malformed");
      log.warn("malformed probe response from {}: {}", synAck.sourceSocket(), response.error());
      return Verdict.accept();
    }
    Pending p = pendingFor(synAck.destinationSocket(), synAck.sourceSocket());
    if (p == null) {
      counters.inc("response_unsolicited");
      return Verdict.accept();
    }
    p.response = response.value();
    counters.inc("response_read");
    return Verdict.accept();
  }

  /** The probe for this 4-tuple; a probe bound to the wildcard address is found by port. */
  private Pending pendingFor(InetSocketAddress local, InetSocketAddress remote) {
    Pending p = pending.get(new FourTuple(local, remote));
    if (p == null) {
      p = pending.get(new FourTuple(new InetSocketAddress(ANY_V4, local.getPort()), remote));
    }
    return p;
  }

  /**
   * Probes {@code server} on behalf of {@code client} (port 0 picks an ephemeral port). Completes
   * with PEER (connection closed), NO_PEER or STRIPPED (with the connected channel, caller owns
   * it), TIMEOUT or FAILED. Never completes exceptionally.
   */
  public CompletionStage<ProbeOutcome> probe(InetSocketAddress client, InetSocketAddress server) {
    return probe(client, server, ProbeRequest.FLAG_CLUSTER_OK, config.probeTimeout(), true);
  }

  /**
   * A middle relay's onward probe (enhanced discovery) for a probe it received: flag RELAYED, at
   * most {@code timeout}, no plain retry (a timeout just means the middle relay answers itself).
   * Outcomes as {@link #probe}; the caller closes a NO_PEER channel it does not use.
   */
  public CompletionStage<ProbeOutcome> probeOnward(InetSocketAddress client, InetSocketAddress server,
      Duration timeout) {
    return probe(client, server, ProbeRequest.FLAG_RELAYED | ProbeRequest.FLAG_CLUSTER_OK, timeout, false);
  }

  private CompletionStage<ProbeOutcome> probe(InetSocketAddress client, InetSocketAddress server, int flags,
      Duration timeout, boolean plainRetry) {
    CompletableFuture<ProbeOutcome> result = new CompletableFuture<>();
    if (synAckQueue != null && !synAckQueue.isRunning()) {
      // an SP's answer would go unread and its listener taken for the server: do not probe blind
      counters.inc("probe_refused_reader_down");
      result.complete(new ProbeOutcome.Failed(new IOException("SYN-ACK reader (NFQUEUE "
          + synAckQueue.queue() + ") is not running")));
      return result;
    }
    connect(client, server, flags, timeout).whenComplete((conn, err) -> {
      if (err == null) {
        // connected: the SYN-ACK has passed the reader already
        Channel ch = conn.channel();
        Pending p = pending.remove(conn.key());
        ProbeResponse resp = p == null ? null : p.response;
        if (resp == null && p != null && !p.optionSent) {
          counters.inc("no_peer_without_option"); // SYN queue not served or no room: inconclusive
        }
        if (resp != null) {
          ch.close();
          result.complete(new ProbeOutcome.Peer(resp.peers(), resp));
        } else {
          result.complete(new ProbeOutcome.NoPeer(ch));
        }
        return;
      }
      Throwable cause = unwrap(err);
      if (!(cause instanceof ConnectTimeoutException)) {
        result.complete(new ProbeOutcome.Failed(cause));
        return;
      }
      if (!plainRetry) {
        result.complete(new ProbeOutcome.Timeout());
        return;
      }
      connect(client, server, -1, config.retryTimeout()).whenComplete((plain, err2) -> {
        if (err2 == null) {
          result.complete(new ProbeOutcome.Stripped(plain.channel()));
        } else if (unwrap(err2) instanceof ConnectTimeoutException) {
          result.complete(new ProbeOutcome.Timeout());
        } else {
          result.complete(new ProbeOutcome.Failed(unwrap(err2)));
        }
      });
    });
    return result;
  }

  /** Probes and records the outcome in {@code pmt} (the caller still owns any returned channel). */
  public CompletionStage<ProbeOutcome> probeAndLearn(InetSocketAddress client, InetSocketAddress server,
      PeerMappingTable pmt) {
    PmtKey key = pmt.keyFor(server.getAddress(), server.getPort());
    return probe(client, server).thenApply(o -> {
      if (o instanceof ProbeOutcome.Peer peer) {
        pmt.recordPeer(key, peer.peers());
      } else if (o instanceof ProbeOutcome.NoPeer) {
        pmt.recordNoPeer(key);
      } else if (o instanceof ProbeOutcome.Stripped) {
        pmt.recordStripped(key);
      } else if (o instanceof ProbeOutcome.Timeout) {
        pmt.recordTimeout(key);
      }
      return o;
    });
  }

  private static Throwable unwrap(Throwable t) {
    while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** A connected channel and the 4-tuple it was registered under (its bound address). */
  private record Connected(Channel channel, FourTuple key) {}

  /**
   * Binds (transparently) then connects; with {@code probeFlags >= 0} the socket is marked and its
   * 4-tuple registered before the SYN (a plain connection otherwise).
   */
  private CompletableFuture<Connected> connect(InetSocketAddress client, InetSocketAddress server, int probeFlags,
      Duration timeout) {
    boolean withProbe = probeFlags >= 0;
    CompletableFuture<Connected> f = new CompletableFuture<>();
    Bootstrap b = new Bootstrap().group(group).channel(EpollSocketChannel.class)
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, timeout.toMillis()))
        .handler(new ChannelInboundHandlerAdapter());
    if (config.transparent()) {
      b.option(SocketOptions.IP_TRANSPARENT, true);
    }
    if (withProbe) {
      b.option(SocketOptions.SO_MARK, config.probeMark());
    }
    ChannelFuture reg = b.register();
    reg.addListener((ChannelFutureListener) r -> {
      if (!r.isSuccess()) {
        f.completeExceptionally(r.cause());
        return;
      }
      Channel ch = r.channel();
      ch.bind(config.transparent() ? client : new InetSocketAddress(ANY_V4, 0)).addListener((ChannelFutureListener) bound -> {
        if (!bound.isSuccess()) {
          ch.close();
          f.completeExceptionally(bound.cause());
          return;
        }
        FourTuple key = new FourTuple((InetSocketAddress) ch.localAddress(), server);
        if (withProbe) {
          pending.put(key, new Pending(random.nextInt() & 0xffffffffL, probeFlags));
        }
        ch.connect(server).addListener((ChannelFutureListener) c -> {
          if (c.isSuccess()) {
            f.complete(new Connected(ch, key));
          } else {
            pending.remove(key);
            ch.close();
            f.completeExceptionally(c.cause());
          }
        });
      });
    });
    return f;
  }

  /** Probes in flight (for tests and the admin API). */
  public int inFlight() {
    return pending.size();
  }

  double events(String event) {
    return counters.count(event);
  }

  @Override
  public void close() {
    if (synQueue != null) {
      synQueue.close();
    }
    if (synAckQueue != null) {
      synAckQueue.close();
    }
  }
}
