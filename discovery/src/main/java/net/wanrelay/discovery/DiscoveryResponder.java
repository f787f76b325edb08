package net.wanrelay.discovery;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.wanrelay.discovery.nfqueue.DeferredPacketHandler;
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
import net.wanrelay.discovery.packet.TcpOptionInserter;
import net.wanrelay.discovery.rules.PeeringRule;
import net.wanrelay.discovery.rules.PeeringRules;
import net.wanrelay.discovery.syn.SavedSynReader;
import net.wanrelay.discovery.syn.SocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SP side of discovery: the discovery listener (TPROXY target of SYNs carrying the probe; it
 * reads each probe through TCP_SAVED_SYN and closes the connection, the SP never connects to the
 * server for a probe) and the SYN-ACK writer that adds the response option to the listener's
 * SYN-ACKs (queued by their SO_MARK).
 */
public final class DiscoveryResponder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DiscoveryResponder.class);
  /** How long an onward probe's answer is kept for retransmitted SYN-ACKs of the same probe. */
  private static final Duration ONWARD_REMEMBER = Duration.ofSeconds(10);

  /**
   * @param listen the discovery listener address, e.g. 0.0.0.0:7801 (the nft tproxy target)
   * @param listenerMark SO_MARK of the listener: the OUTPUT rule queues SYN-ACKs with it
   * @param format the option kind/ExID
   * @param answer the response: this SP's trunk address(es) and port
   * @param peeringRules which clients/servers to answer; PASS_THROUGH ones get no response option
   */
  public record Config(InetSocketAddress listen, int listenerMark, OptionFormat format, ProbeResponse answer,
      PeeringRules peeringRules) {
    /** Listener 0.0.0.0:7801, mark 0x78, the default option format, no peering rules. */
    public static Config defaults(ProbeResponse answer) {
      return new Config(new InetSocketAddress("0.0.0.0", 7801), 0x78, OptionFormat.DEFAULT, answer,
          new PeeringRules(java.util.List.of()));
    }
  }

  /** A probe read from a saved SYN. */
  public record ProbeSeen(InetSocketAddress client, InetSocketAddress server, ProbeRequest probe) {}

  private final EventLoopGroup group;
  private final Config config;
  private final ProbeOptionCodec codec;
  private final byte[] responseOption;
  private final DiscoveryCounters counters;
  private final MeterRegistry registry;
  private final Consumer<ProbeSeen> onProbe;
  private Channel listener;
  private NfQueueWorker synAckQueue;
  /** Enhanced discovery: the prober for onward probes, or null (answer at once). */
  private Prober onward;
  private Duration onwardTimeout;
  /** Onward probes in flight (and just done), by the probe's 4-tuple: a retransmitted SYN-ACK joins its probe. */
  private final Map<FourTuple, CompletableFuture<byte[]>> onwardProbes = new ConcurrentHashMap<>();

  public DiscoveryResponder(EventLoopGroup epollGroup, Config config, MeterRegistry registry, Consumer<ProbeSeen> onProbe) {
    this.group = epollGroup;
    this.config = config;
    this.codec = new ProbeOptionCodec(config.format());
    this.responseOption = codec.encodeResponse(config.answer());
    this.counters = new DiscoveryCounters(registry);
    this.registry = registry;
    this.onProbe = onProbe;
  }

  /** Binds the transparent discovery listener (IP_TRANSPARENT, TCP_SAVE_SYN, SO_MARK). */
  public DiscoveryResponder startListener() throws InterruptedException {
    listener = new ServerBootstrap().group(group).channel(EpollServerSocketChannel.class)
        .option(SocketOptions.IP_TRANSPARENT, true)
        .option(SocketOptions.TCP_SAVE_SYN, 1)
        .option(SocketOptions.SO_MARK, config.listenerMark())
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(new ProbeReader())
        .bind(config.listen()).sync().channel();
    log.info("discovery listener on {}", listener.localAddress());
    return this;
  }

  /**
   * Enhanced discovery (a relay that may sit in the middle of the path): for each probe, hold the
   * listener's SYN-ACK, probe the server onward with {@code prober} (flag RELAYED, at most
   * {@code timeout}), and answer with the response of a further SP if one answered, else with our
   * own. Call before {@link #startQueue}. The prober's queues must be running.
   */
  public DiscoveryResponder probeOnward(Prober prober, Duration timeout) {
    this.onward = prober;
    this.onwardTimeout = timeout;
    return this;
  }

  /** Binds the SYN-ACK queue in this process's network namespace. */
  public DiscoveryResponder startQueue(int synAckQueueNumber) throws IOException {
    synAckQueue = onward == null ? NfQueueWorker.start(synAckQueueNumber, synAckWriter(), registry)
        : NfQueueWorker.startDeferred(synAckQueueNumber, onwardSynAckWriter(), registry);
    return this;
  }

  public InetSocketAddress listenAddress() {
    return (InetSocketAddress) listener.localAddress();
  }

  /** Reads the probe of each accepted connection, reports it, and closes the connection. */
  private final class ProbeReader extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      Channel ch = ctx.channel();
      ParseResult<ProbeRequest> probe = SavedSynReader.readSavedSyn(ch)
          .flatMap(syn -> SavedSynReader.probeOf(syn, codec));
      if (probe.isOk()) {
        counters.inc("probe_seen");
        ProbeSeen seen = new ProbeSeen((InetSocketAddress) ch.remoteAddress(), (InetSocketAddress) ch.localAddress(),
            probe.value());
        try {
          onProbe.accept(seen);
        } catch (RuntimeException e) {
          log.warn("probe callback failed", e);
        }
      } else {
        counters.inc("probe_unreadable");
        log.warn("discovery connection {} -> {} without a readable probe: {}", ch.remoteAddress(),
            ch.localAddress(), probe.error());
      }
      ch.close();
    }

    @Override
    public boolean isSharable() {
      return true;
    }
  }

  /** Handler for the queue of the listener's SYN-ACKs: adds the response option. */
  public PacketHandler synAckWriter() {
    return this::writeResponse;
  }

  private Verdict writeResponse(NfqMessages.Packet queued) {
    Ipv4TcpPacket synAck = answerable(queued);
    return synAck == null ? Verdict.accept() : withResponse(queued, synAck, responseOption);
  }

  /** The queued SYN-ACK if it should get a response option, else null (counted). */
  private Ipv4TcpPacket answerable(NfqMessages.Packet queued) {
    ParseResult<Ipv4TcpPacket> parsed = Ipv4TcpPacket.parse(queued.payload());
    if (!parsed.isOk()) {
      counters.inc("synack_unparseable");
      return null;
    }
    Ipv4TcpPacket synAck = parsed.value();
    if (!synAck.isSynAck()) {
      counters.inc("synack_writer_not_synack");
      return null;
    }
    // SYN-ACK: source = server (the original destination), destination = client
    PeeringRule rule = config.peeringRules().match(synAck.destination(), synAck.source(), synAck.sourcePort());
    if (rule.action() == PeeringRule.Action.PASS_THROUGH) {
      counters.inc("response_withheld");
      return null;
    }
    return synAck;
  }

  /** Handler for the SYN-ACK queue in enhanced discovery: answers once the onward probe is done. */
  public DeferredPacketHandler onwardSynAckWriter() {
    return (queued, verdict) -> {
      Ipv4TcpPacket synAck = answerable(queued);
      if (synAck == null) {
        verdict.accept(Verdict.accept());
        return;
      }
      FourTuple probe = new FourTuple(synAck.destinationSocket(), synAck.sourceSocket());
      CompletableFuture<byte[]> fresh = new CompletableFuture<>();
      CompletableFuture<byte[]> answer = onwardProbes.putIfAbsent(probe, fresh);
      if (answer == null) {
        answer = fresh;
        startOnward(probe, synAck, fresh);
      } else {
        counters.inc("onward_joined"); // a retransmitted SYN-ACK of a probe already in hand
      }
      answer.whenComplete((option, err) ->
          verdict.accept(withResponse(queued, synAck, option != null ? option : responseOption)));
    };
  }

  private void startOnward(FourTuple probe, Ipv4TcpPacket synAck, CompletableFuture<byte[]> answer) {
    InetSocketAddress client = new InetSocketAddress(synAck.destination(), 0);
    InetSocketAddress server = synAck.sourceSocket();
    CompletionStage<ProbeOutcome> outcome;
    try {
      outcome = onward.probeOnward(client, server, onwardTimeout);
    } catch (RuntimeException e) {
      outcome = CompletableFuture.completedFuture(new ProbeOutcome.Failed(e));
    }
    outcome.whenComplete((o, err) -> {
      byte[] option = responseOption;
      if (o instanceof ProbeOutcome.Peer peer) {
        counters.inc("onward_peer"); // a further SP answered: it is the one to use
        option = codec.encodeResponse(peer.response());
        log.debug("probe {} -> {}: a further SP answered ({})", probe.local(), server, peer.peers());
      } else if (o instanceof ProbeOutcome.NoPeer n) {
        counters.inc("onward_no_peer"); // we are the last SP before the server
        n.channel().close();
      } else if (o instanceof ProbeOutcome.Stripped st) {
        counters.inc("onward_stripped");
        st.channel().close();
      } else if (o instanceof ProbeOutcome.Timeout) {
        counters.inc("onward_timeout");
      } else {
        counters.inc("onward_failed");
        log.debug("onward probe {} -> {} failed: {}", client, server, o == null ? err : ((ProbeOutcome.Failed) o).cause());
      }
      answer.complete(option);
      // keep the answer a little for SYN-ACK retransmits, then forget it
      group.schedule(() -> onwardProbes.remove(probe, answer), ONWARD_REMEMBER.toMillis(), TimeUnit.MILLISECONDS);
    });
  }

  private Verdict withResponse(NfqMessages.Packet queued, Ipv4TcpPacket synAck, byte[] option) {
    TcpOptionInserter.Result r = TcpOptionInserter.insert(queued.payload(), option);
    if (!r.changed()) {
      counters.inc("response_not_added");
      log.warn("response option not added to {}: {}", synAck, r.reason());
      return Verdict.accept();
    }
    counters.inc("response_added");
    return Verdict.accept(r.packet());
  }

  double events(String event) {
    return counters.count(event);
  }

  @Override
  public void close() {
    if (synAckQueue != null) {
      synAckQueue.close();
    }
    if (listener != null) {
      listener.close().syncUninterruptibly();
    }
  }
}
