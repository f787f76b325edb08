package net.wanrelay.core.transparent;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Intercepted UDP flows by 4-tuple, with a cap and idle expiry. Not thread-safe: confined to the
 * event loop of the UDP intercept listener.
 */
final class FlowTable<V extends FlowTable.Entry> {
  /** A flow: the client's address and port, and the original destination it sent to. */
  record Key(InetSocketAddress client, InetSocketAddress server) {
    @Override
    public String toString() {
      return client + " -> " + server;
    }
  }

  /** What the table needs from a flow: when it last carried a datagram (either way). */
  interface Entry {
    long lastActivityNanos();
  }

  private final Map<Key, V> flows = new HashMap<>();
  private final int maxFlows;

  FlowTable(int maxFlows) {
    if (maxFlows < 1) {
      throw new IllegalArgumentException("maxFlows must be positive, was " + maxFlows);
    }
    this.maxFlows = maxFlows;
  }

  V get(Key key) {
    return flows.get(key);
  }

  boolean isFull() {
    return flows.size() >= maxFlows;
  }

  /** Adds a new flow; refuses (false) when full or when the key is taken. */
  boolean add(Key key, V flow) {
    if (isFull() || flows.containsKey(key)) {
      return false;
    }
    flows.put(key, flow);
    return true;
  }

  /** Removes {@code flow} if it is still the one stored under {@code key}. */
  boolean remove(Key key, V flow) {
    return flows.remove(key, flow);
  }

  /** Removes and returns the flows idle for {@code idleNanos} or longer at {@code nowNanos}. */
  List<V> expire(long nowNanos, long idleNanos) {
    List<V> expired = new ArrayList<>();
    Iterator<V> it = flows.values().iterator();
    while (it.hasNext()) {
      V f = it.next();
      if (nowNanos - f.lastActivityNanos() >= idleNanos) {
        it.remove();
        expired.add(f);
      }
    }
    return expired;
  }

  /** Removes and returns every flow (shutdown). */
  List<V> clear() {
    List<V> all = new ArrayList<>(flows.values());
    flows.clear();
    return all;
  }

  int size() {
    return flows.size();
  }
}
