package net.wanrelay.channel;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.wanrelay.channel.frame.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams of lost trunk connections waiting for a replacement connection (per node). A lost
 * connection parks its resumable streams here under its resume key; the next authenticated
 * connection with the same key claims them within the grace time, otherwise they are reset.
 *
 * <p>Key: the initiator's connection token plus the peer identity (initiator side: configured
 * peer name; acceptor side: the initiator's node id and incarnation, so a restarted initiator
 * never finds the streams of its previous life). Thread-safe.
 */
final class ResumeRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(ResumeRegistry.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final long incarnation;
  private final Duration grace;
  private final ConcurrentHashMap<String, List<Parked>> parked = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, TrunkConnection> live = new ConcurrentHashMap<>();
  private volatile boolean closed;

  ResumeRegistry(Duration grace) {
    this.grace = grace;
    long id;
    do {
      id = RANDOM.nextLong();
    } while (id == 0);
    this.incarnation = id;
  }

  /** Random id of this node instance, sent in HELLO. */
  long incarnation() { return incarnation; }
  Duration grace() { return grace; }
  boolean enabled() { return !grace.isZero() && !closed; }

  static long newToken() {
    long t;
    do {
      t = RANDOM.nextLong();
    } while (t == 0);
    return t;
  }

  static String initiatorKey(String peerName, long token) {
    return "i/" + peerName + "/" + Long.toHexString(token);
  }

  static String acceptorKey(String peerNodeId, long peerIncarnation, long token) {
    return "a/" + peerNodeId + "/" + Long.toHexString(peerIncarnation) + "/" + Long.toHexString(token);
  }

  /**
   * The streams of one lost connection, all on that connection's event loop.
   *
   * @param nextLocalId the lost connection's next own stream id
   * @param lastRemoteId the lost connection's highest peer stream id
   * @param peerIncarnation the peer's incarnation on the lost connection
   */
  record Parked(EventLoop loop, List<TrunkStream> streams, int nextLocalId, int lastRemoteId,
      long peerIncarnation, TrunkMetrics.Peer peer, AtomicBoolean taken, ScheduledFuture<?>[] timer) {
    boolean take() {
      if (!taken.compareAndSet(false, true)) {
        return false;
      }
      if (timer[0] != null) {
        timer[0].cancel(false);
      }
      return true;
    }

    /** Resets every stream still suspended (on the streams' loop). */
    void resetAll(String reason, String message) {
      loop.execute(() -> {
        for (TrunkStream s : streams) {
          if (s.isSuspended()) {
            peer.resumeReset(reason);
            s.abortSuspended(ErrorCode.CONNECTION_LOST, message);
          }
        }
      });
    }
  }

  /**
   * Parks the suspended streams of a lost connection (on its loop); they are reset after the
   * grace time counted from {@code suspendedAtNanos} unless claimed. False when the registry is
   * closed (the caller aborts them instead).
   */
  boolean park(String key, Parked p, long suspendedAtNanos) {
    if (closed) {
      return false;
    }
    long left = suspendedAtNanos + grace.toNanos() - System.nanoTime();
    parked.compute(key, (k, l) -> {
      List<Parked> list = l == null ? new ArrayList<>(1) : l;
      list.add(p);
      return list;
    });
    p.timer()[0] = p.loop().schedule(() -> expire(key, p), Math.max(0, left), TimeUnit.NANOSECONDS);
    if (closed) { // raced close(): nobody will claim these
      expire(key, p);
    }
    return true;
  }

  /** Records the live connection of a key; returns the one it replaces, if that is still registered. */
  TrunkConnection register(String key, TrunkConnection c) {
    TrunkConnection old = live.put(key, c);
    return old == c ? null : old;
  }

  void unregister(String key, TrunkConnection c) {
    live.remove(key, c);
  }

  /** Takes everything parked under {@code key}; the caller adopts or resets it. */
  List<Parked> claim(String key) {
    List<Parked> l = parked.remove(key);
    List<Parked> out = new ArrayList<>();
    if (l != null) {
      synchronized (l) {
        for (Parked p : l) {
          if (p.take()) {
            out.add(p);
          }
        }
      }
    }
    return out;
  }

  /**
   * Acceptor side: {@code peerNodeId} authenticated as incarnation {@code current}. What its
   * earlier lives parked can never be claimed (their keys carry the old incarnation): take it
   * now instead of letting it wait out the grace time.
   */
  List<Parked> claimEarlierLives(String peerNodeId, long current) {
    List<Parked> out = new ArrayList<>();
    parked.forEach((key, list) -> {
      Parked first;
      synchronized (list) {
        first = list.isEmpty() ? null : list.get(0);
      }
      if (key.startsWith("a/") && first != null && first.peer().name().equals(peerNodeId)
          && first.peerIncarnation() != current) {
        out.addAll(claim(key));
      }
    });
    return out;
  }

  private void expire(String key, Parked p) {
    parked.computeIfPresent(key, (k, l) -> {
      l.remove(p);
      return l.isEmpty() ? null : l;
    });
    if (p.take()) {
      LOG.info("trunk {}: {} suspended streams not resumed within {} ms, resetting", p.peer().name(),
          p.streams().size(), grace.toMillis());
      p.resetAll("grace_expired", "not resumed within the grace time");
    }
  }

  /** Node shutdown: resets everything parked and parks nothing more. */
  void close() {
    closed = true;
    for (String key : new ArrayList<>(parked.keySet())) {
      for (Parked p : claim(key)) {
        p.resetAll("shutdown", "node shutting down");
      }
    }
  }
}
