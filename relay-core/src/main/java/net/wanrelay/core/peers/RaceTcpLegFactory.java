package net.wanrelay.core.peers;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.channel.StreamListener;
import net.wanrelay.channel.TcpStreamBridge;
import net.wanrelay.channel.TrunkStream;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.OpenRequest;
import net.wanrelay.channel.frame.StreamProtocol;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;
import net.wanrelay.core.tcp.Sockets;
import net.wanrelay.core.tcp.TcpLegFactory;
import net.wanrelay.core.tcp.TcpSession;
import net.wanrelay.core.trunk.TrunkTcpLegFactory;

/**
 * Sessions of a {@code policy: race} peer group: an OPEN (marked RACE) goes to every SP of the
 * group whose trunk is up; the first OPEN_ACK wins and is bridged to the client, every other
 * stream is reset. An SP at its session limit does not answer a raced OPEN at all, so a loaded
 * SP simply loses. No OPEN_ACK within the race timeout, or every SP refusing: the client is reset.
 *
 * <p>Early data: the client socket is not read until a winner is known (the raced OPENs carry no
 * data), so the client's first bytes reach exactly one server; waiting costs at most the winner's
 * round trip, which a raced session pays anyway before the server can answer.
 */
public final class RaceTcpLegFactory implements TcpLegFactory {
  private final PeerGroup group;
  private final RelayMetrics metrics;
  private final PeerMetrics peerMetrics;
  private final Duration idleTimeout;

  public RaceTcpLegFactory(PeerGroup group, RelayMetrics metrics, PeerMetrics peerMetrics, Duration idleTimeout) {
    this.group = group;
    this.metrics = metrics;
    this.peerMetrics = peerMetrics;
    this.idleTimeout = idleTimeout;
  }

  @Override
  public void start(TcpSession session) {
    TrunkTcpLegFactory.instrument(session, metrics, idleTimeout);
    List<PeerLink> entrants = group.up();
    if (entrants.isEmpty()) {
      fail(session, "trunk_down");
      Sockets.reset(session.client());
      session.client().closeFuture().addListener(f -> session.end(Outcome.CONNECT_FAILED));
      return;
    }
    new Race(session, entrants).start();
  }

  private void fail(TcpSession session, String reason) {
    session.failure(reason);
    metrics.connectFailure(Protocol.TCP, reason);
  }

  /** One client session's race. Entrant events arrive on the entrants' trunk event loops. */
  private final class Race {
    private final TcpSession session;
    private final Channel client;
    private final List<Entrant> entrants = new ArrayList<>();
    private final AtomicBoolean decided = new AtomicBoolean();
    private final AtomicInteger failed = new AtomicInteger();
    private final long startedNanos = System.nanoTime();
    private volatile Entrant winner;
    private volatile ScheduledFuture<?> timeout;

    Race(TcpSession session, List<PeerLink> links) {
      this.session = session;
      this.client = session.client();
      for (PeerLink l : links) {
        entrants.add(new Entrant(l));
      }
    }

    void start() {
      InetSocketAddress source = (InetSocketAddress) client.remoteAddress();
      OpenRequest request = new OpenRequest(StreamProtocol.TCP, session.target(), source, 0).raced();
      client.closeFuture().addListener(f -> {
        if (decided.compareAndSet(false, true)) {
          cancelTimeout();
          resetAll(null); // the client left before any SP answered
        }
        session.end(winner != null ? Outcome.COMPLETED : session.failure() != null ? Outcome.CONNECT_FAILED : Outcome.RESET);
      });
      timeout = client.eventLoop().schedule(this::timedOut, group.config().raceTimeout().toNanos(), TimeUnit.NANOSECONDS);
      for (Entrant e : entrants) {
        Future<TrunkStream> f = e.link.openStream(request, e);
        f.addListener(x -> {
          if (x.isSuccess()) {
            e.opened(f.getNow());
          } else {
            e.failed("trunk_error");
          }
        });
      }
    }

    private void timedOut() {
      if (decided.compareAndSet(false, true)) {
        peerMetrics.raceTimeout(group.name());
        fail(session, "race_timeout");
        resetAll(null);
        Sockets.reset(client);
      }
    }

    private void cancelTimeout() {
      ScheduledFuture<?> t = timeout;
      if (t != null) {
        t.cancel(false);
      }
    }

    /** Every entrant but {@code keep} is reset (those still opening, once their stream exists). */
    private void resetAll(Entrant keep) {
      for (Entrant e : entrants) {
        if (e != keep) {
          e.lose();
        }
      }
    }

    /** One SP's stream in the race. */
    private final class Entrant implements StreamListener {
      final PeerLink link;
      private volatile TrunkStream stream;
      private final AtomicBoolean settled = new AtomicBoolean();

      Entrant(PeerLink link) {
        this.link = link;
      }

      /** The OPEN went out on a trunk connection (its loop); reset at once if the race is over. */
      void opened(TrunkStream s) {
        stream = s;
        if (decided.get() && winner != this) {
          lose();
        }
      }

      @Override
      public void onOpenAck(TrunkStream s) {
        if (decided.compareAndSet(false, true)) {
          winner = this;
          settled.set(true);
          cancelTimeout();
          TcpStreamBridge.adopt(client, s); // on this stream's loop, before its next frame
          session.peer(link.name());
          session.markConnected();
          peerMetrics.race(group.name(), link.name(), "won");
          peerMetrics.trunkConnect(link.name()).record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
          resetAll(this);
        } else {
          lose();
        }
      }

      @Override
      public void onOpenFail(TrunkStream s, ErrorCode code, String message) {
        failed(code.label());
      }

      @Override
      public void onReset(TrunkStream s, ErrorCode code, String message) {
        failed(code.label());
      }

      /** This SP cannot serve the session; when none can, the client is reset. */
      void failed(String reason) {
        if (!settled.compareAndSet(false, true)) {
          return;
        }
        peerMetrics.race(group.name(), link.name(), "failed");
        if (failed.incrementAndGet() == entrants.size() && decided.compareAndSet(false, true)) {
          cancelTimeout();
          fail(session, reason);
          Sockets.reset(client);
        }
      }

      /** Another SP won (or the race ended): RST this stream, on its own loop. */
      void lose() {
        TrunkStream s = stream;
        if (s == null) {
          return; // not opened yet: opened() resets it
        }
        if (settled.compareAndSet(false, true)) {
          peerMetrics.race(group.name(), link.name(), "lost");
        }
        if (s.eventLoop().inEventLoop()) {
          resetIfOpen(s);
        } else {
          s.eventLoop().execute(() -> resetIfOpen(s));
        }
      }

      private void resetIfOpen(TrunkStream s) {
        if (!s.isClosed()) {
          s.reset(ErrorCode.CANCEL, "race lost");
        }
      }

      @Override
      public void onData(TrunkStream s, ByteBuf data) {
        data.release(); // a losing SP's server spoke before our RST reached it
      }

      @Override
      public void onFin(TrunkStream s) {}
    }
  }
}
