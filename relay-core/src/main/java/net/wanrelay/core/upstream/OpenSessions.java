package net.wanrelay.core.upstream;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import net.wanrelay.core.tcp.TcpLegFactory;
import net.wanrelay.core.tcp.TcpSession;

/**
 * The open TCP sessions for the admin API: where each was meant to go, where it went, bytes and
 * connect latency. An entry leaves when the client channel closes.
 */
final class OpenSessions {
  /** One open session; {@code actual} is filled in by a pool once it picked a member. */
  static final class Entry {
    final String listener;
    final InetSocketAddress client;
    final String original;
    final long openedMillis = System.currentTimeMillis();
    final TcpSession session;
    volatile String actual;

    Entry(String listener, InetSocketAddress client, String original, String actual, TcpSession session) {
      this.listener = listener;
      this.client = client;
      this.original = original;
      this.actual = actual;
      this.session = session;
    }
  }

  private final ConcurrentMap<TcpSession, Entry> open = new ConcurrentHashMap<>();

  /** Wraps a listener's leg factory so its sessions are listed. */
  TcpLegFactory tracking(String listener, String original, TcpLegFactory legs) {
    return session -> {
      Entry e = new Entry(listener, (InetSocketAddress) session.client().remoteAddress(), original,
          session.target() == null ? null : text(session.target()), session);
      open.put(session, e);
      session.client().closeFuture().addListener(f -> open.remove(session));
      legs.start(session);
    };
  }

  /** Records where a pool sent the session (for sessions listed through {@link #tracking}). */
  void actual(TcpSession session, InetSocketAddress destination) {
    Entry e = open.get(session);
    if (e != null) {
      e.actual = text(destination);
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
