package net.wanrelay.discovery.selection;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * A consistent-hash ring with virtual nodes. Every member owns {@code virtualNodes} points on a
 * 64-bit ring, placed by hashing its id; a key belongs to the first member met walking clockwise
 * from the key's own hash. Removing a member removes only its points, so only the keys it owned
 * move (each to the member that follows on the ring); every other key keeps its member. An
 * ineligible (down) member is skipped the same way, without rebuilding the ring.
 *
 * <p>Immutable and thread-safe. Hashes are stable across runs and JVMs (FNV-1a plus a 64-bit
 * finalizer), so two CPs with the same member list map a key to the same member.
 */
public final class HashRing<T> {
  /** Enough points per member that three members share the ring within a few percent. */
  public static final int DEFAULT_VIRTUAL_NODES = 160;

  private final TreeMap<Long, T> points = new TreeMap<>();
  private final List<T> members;

  /**
   * @param members distinct members (order does not matter)
   * @param id a stable identity per member, e.g. its name or address text
   */
  public HashRing(List<T> members, Function<T, String> id, int virtualNodes) {
    if (virtualNodes < 1) {
      throw new IllegalArgumentException("virtualNodes must be at least 1");
    }
    this.members = List.copyOf(members);
    for (T m : this.members) {
      String base = id.apply(m);
      for (int i = 0; i < virtualNodes; i++) {
        // A collision (two 64-bit hashes equal) keeps the first owner; harmless, vanishingly rare.
        points.putIfAbsent(hash(base + "#" + i), m);
      }
    }
  }

  public HashRing(List<T> members, Function<T, String> id) {
    this(members, id, DEFAULT_VIRTUAL_NODES);
  }

  public List<T> members() {
    return members;
  }

  /** The member owning {@code key} among the eligible ones, or null when none is eligible. */
  public T pick(String key, Predicate<T> eligible) {
    if (points.isEmpty()) {
      return null;
    }
    long h = hash(key);
    for (Map.Entry<Long, T> e : walk(h)) {
      if (eligible.test(e.getValue())) {
        return e.getValue();
      }
    }
    return null;
  }

  /**
   * Every member, in the order met walking clockwise from {@code key}: the owner first, then the
   * member that takes over if the owner is gone, and so on.
   */
  public List<T> order(String key) {
    Set<T> seen = new LinkedHashSet<>();
    if (!points.isEmpty()) {
      for (Map.Entry<Long, T> e : walk(hash(key))) {
        if (seen.add(e.getValue()) && seen.size() == members.size()) {
          break;
        }
      }
    }
    return new ArrayList<>(seen);
  }

  /** Points from {@code h} clockwise round to just before it. */
  private Iterable<Map.Entry<Long, T>> walk(long h) {
    return () -> Stream.concat(points.tailMap(h, true).entrySet().stream(),
        points.headMap(h, false).entrySet().stream()).iterator();
  }

  /** A 64-bit hash of a string: FNV-1a, then the MurmurHash3 finalizer to spread the bits. */
  public static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= x & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
