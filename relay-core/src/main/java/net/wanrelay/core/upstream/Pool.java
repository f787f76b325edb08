package net.wanrelay.core.upstream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.wanrelay.core.config.HostPort;
import net.wanrelay.core.config.PoolConfig;
import net.wanrelay.core.config.PoolConfig.Policy;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.net.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A named service over several addresses: picks a healthy member for each new session by the
 * configured policy and probes every member on its own event loop. At most one probe per member
 * is in flight; the next starts one interval after the previous one started (or at once if it
 * took longer), so probes never pile up.
 */
final class Pool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Pool.class);

  final PoolConfig config;
  final List<Member> members = new ArrayList<>();
  final Optional<InetSocketAddress> fallback;
  private final Transport transport;
  private final AtomicInteger turn = new AtomicInteger();
  private final Counter failovers;
  final Counter flowMoves;
  private final List<Prober> probers = new ArrayList<>();
  private volatile boolean closed;

  Pool(PoolConfig config, Transport transport, EventLoopGroup loops, MeterRegistry registry) {
    this.config = config;
    this.transport = transport;
    this.fallback = config.fallback().map(HostPort::resolve);
    this.failovers = Counter.builder("wanrelay.upstream.failovers")
        .description("Members that left a pool's rotation after failed checks")
        .tag("pool", config.name()).register(registry);
    this.flowMoves = Counter.builder("wanrelay.upstream.flow.moves")
        .description("UDP flows of a resumable pool moved to another destination")
        .tag("pool", config.name()).register(registry);
    var h = config.health();
    for (HostPort hp : config.members()) {
      Member m = new Member(hp.resolve(), hp.toString(), h.rise(), h.fall());
      members.add(m);
      Gauge.builder("wanrelay.upstream.health", m, x -> x.usable() ? 1 : 0)
          .description("1 while the member is in the pool's rotation")
          .tag("pool", config.name()).tag("address", m.text).register(registry);
      Gauge.builder("wanrelay.upstream.sessions.active", m.sessions, AtomicInteger::get)
          .description("Open sessions per pool member")
          .tag("pool", config.name()).tag("address", m.text).register(registry);
      Timer probeTimer = Timer.builder("wanrelay.upstream.probe")
          .description("Latency of passed health probes (connect and exchange)")
          .tag("pool", config.name()).tag("address", m.text).register(registry);
      Counter passed = probes(registry, m, "pass");
      Counter failed = probes(registry, m, "fail");
      probers.add(new Prober(m, loops.next(), probeTimer, passed, failed));
    }
  }

  private Counter probes(MeterRegistry registry, Member m, String result) {
    return Counter.builder("wanrelay.upstream.probes").description("Health probes by result")
        .tag("pool", config.name()).tag("address", m.text).tag("result", result).register(registry);
  }

  String name() {
    return config.name();
  }

  void start() {
    probers.forEach(p -> p.loop.execute(p::probe));
  }

  /** The member for a new session, or null when none is healthy. Never returns a member that is not UP. */
  Member choose() {
    Policy policy = config.policy();
    if (policy == Policy.PRIMARY_BACKUP) {
      for (Member m : members) {
        if (m.usable()) {
          return m;
        }
      }
      return null;
    }
    List<Member> up = new ArrayList<>(members.size());
    for (Member m : members) {
      if (m.usable()) {
        up.add(m);
      }
    }
    if (up.isEmpty()) {
      return null;
    }
    // Turn over the healthy members only, so a member's absence spreads its share evenly; the
    // other policies start their scan there too so ties spread.
    int start = Math.floorMod(turn.getAndIncrement(), up.size());
    if (policy == Policy.ROUND_ROBIN) {
      return up.get(start);
    }
    Member best = null;
    for (int i = 0; i < up.size(); i++) {
      Member m = up.get((start + i) % up.size());
      boolean better = best == null || (policy == Policy.LEAST_SESSIONS
          ? m.sessions.get() < best.sessions.get()
          : rtt(m) < rtt(best));
      if (better) {
        best = m;
      }
    }
    return best;
  }

  boolean anyUsable() {
    for (Member m : members) {
      if (m.usable()) {
        return true;
      }
    }
    return false;
  }

  private static double rtt(Member m) {
    double r = m.ewmaRttSeconds();
    return Double.isNaN(r) ? Double.MAX_VALUE : r;
  }

  /** A session could not connect to {@code m}: it counts as a failed check (see docs/POOLS.md). */
  void sessionConnectFailed(Member m) {
    apply(m, m.record(false, "session_connect_failed"));
  }

  private void apply(Member m, Member.Transition t) {
    if (t == Member.Transition.WENT_DOWN) {
      failovers.increment();
      log.warn("pool {}: {} left the rotation ({})", config.name(), m.text, m.lastResult());
    } else if (t == Member.Transition.CAME_UP) {
      log.info("pool {}: {} is in the rotation", config.name(), m.text);
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Prober p : probers) {
      if (!p.loop.isShuttingDown()) {
        p.loop.execute(p::stop);
      }
    }
  }

  /** Probes one member, confined to one event loop. */
  private final class Prober {
    final Member member;
    final EventLoop loop;
    final Timer latency;
    final Counter passed;
    final Counter failed;
    final byte[] send;
    final byte[] expect;
    ScheduledFuture<?> next;
    Channel inFlight;

    Prober(Member member, EventLoop loop, Timer latency, Counter passed, Counter failed) {
      this.member = member;
      this.loop = loop;
      this.latency = latency;
      this.passed = passed;
      this.failed = failed;
      this.send = config.health().send().map(s -> s.getBytes(StandardCharsets.UTF_8)).orElse(new byte[0]);
      this.expect = config.health().expect().map(s -> s.getBytes(StandardCharsets.UTF_8)).orElse(new byte[0]);
    }

    void probe() {
      if (closed) {
        return;
      }
      long started = System.nanoTime();
      long intervalNanos = config.health().interval().toNanos();
      HealthProbe.Result done = (ok, nanos, detail) -> {
        inFlight = null;
        if (ok) {
          passed.increment();
          latency.record(nanos, TimeUnit.NANOSECONDS);
          member.probeSample(nanos);
        } else {
          failed.increment();
        }
        apply(member, member.record(ok, detail));
        if (!closed) {
          long wait = Math.max(0, intervalNanos - (System.nanoTime() - started));
          next = loop.schedule(this::probe, wait, TimeUnit.NANOSECONDS);
        }
      };
      long timeout = config.health().timeout().toMillis();
      inFlight = config.health().protocol() == Protocol.UDP
          ? UdpHealthProbe.start(transport, loop, member.address, timeout, send, expect, done)
          : HealthProbe.start(transport, loop, member.address, timeout, send, expect, done);
    }

    void stop() {
      if (next != null) {
        next.cancel(false);
      }
      if (inFlight != null) {
        inFlight.close();
      }
    }
  }
}
