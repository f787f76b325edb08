package net.wanrelay.core.upstream;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import net.wanrelay.core.tcp.TcpLegFactory;
import net.wanrelay.core.tcp.TcpSession;

/**
 * The TCP sessions for the admin API: where each was meant to go, where it went (and over which
 * trunk peer), bytes, connect latency and why it failed. An entry leaves the open list when the
 * client channel closes and is kept among the last {@link #RECENT} ended sessions.
 */
final class OpenSessions {
  static final int RECENT = 100;

  /** One open session; {@code actual} is filled in by a pool once it picked a member. */
  static final class Entry {
    final String listener;
    final InetSocketAddress client;
    final String original;
    final long openedMillis = System.currentTimeMillis();
    final TcpSession session;
    // Kept as an address and formatted only when the admin API lists it (not per session).
    volatile InetSocketAddress actual;
    volatile long closedMillis;

    Entry(String listener, InetSocketAddress client, String original, InetSocketAddress actual, TcpSession session) {
      this.listener = listener;
      this.client = client;
      this.original = original;
      this.actual = actual;
      this.session = session;
    }
  }

  private final ConcurrentMap<TcpSession, Entry> open = new ConcurrentHashMap<>();
  private final java.util.ArrayDeque<Entry> recent = new java.util.ArrayDeque<>();

  /** Wraps a listener's leg factory so its sessions are listed. */
  TcpLegFactory tracking(String listener, String original, TcpLegFactory legs) {
    return session -> {
      Entry e = new Entry(listener, (InetSocketAddress) session.client().remoteAddress(), original,
          session.target(), session);
      open.put(session, e);
      session.client().closeFuture().addListener(f -> ended(session));
      legs.start(session);
    };
  }

  /** Records where a pool sent the session (for sessions listed through {@link #tracking}). */
  void actual(TcpSession session, InetSocketAddress destination) {
    Entry e = open.get(session);
    if (e != null) {
      e.actual = destination;
    }
  }

  private void ended(TcpSession session) {
    Entry e = open.remove(session);
    if (e == null) {
      return;
    }
    e.closedMillis = System.currentTimeMillis();
    synchronized (recent) {
      if (recent.size() == RECENT) {
        recent.removeFirst();
      }
      recent.addLast(e);
    }
  }

  /** The last ended sessions, newest first. */
  List<Entry> recent() {
    synchronized (recent) {
      List<Entry> l = new ArrayList<>(recent);
      java.util.Collections.reverse(l);
      return l;
    }
  }

  int size() {
    return open.size();
  }

  /** Up to {@code limit} open sessions, oldest first. */
  List<Entry> first(int limit) {
    List<Entry> all = new ArrayList<>(open.values());
    all.sort((a, b) -> Long.compare(a.openedMillis, b.openedMillis));
    return all.size() > limit ? all.subList(0, limit) : all;
  }

  static String text(InetSocketAddress a) {
    if (a == null) {
      return null;
    }
    String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
