package net.wanrelay.it.loopbench;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load generator of the short-session benchmark: several threads each loop connect, send the
 * 1 KiB request, read and check the 1 KiB reply, close. Bounded by a session count and by time;
 * reports sessions/s, latency percentiles and errors by kind.
 *
 * <p>Run: {@code java -cp CLASSES net.wanrelay.it.loopbench.SessionLoad --target 127.0.0.1:PORT
 * [--threads 8] [--sessions 1000000] [--seconds 8] [--warmup-seconds 1]}. Prints one line
 * {@code sessions_ok=N errors=E seconds=S rate=R p50_us=.. p99_us=.. max_us=.. errors_by_kind={..}}.
 */
public final class SessionLoad {

  /** What to run. {@code maxSessions} and {@code duration} both bound the measured phase. */
  public record Settings(InetSocketAddress target, int threads, long maxSessions, Duration duration,
                         Duration warmup, Duration ioTimeout) {
    public Settings {
      if (threads < 1 || maxSessions < 1 || duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("threads, sessions and duration must be positive");
      }
    }
  }

  /** Outcome of the measured phase. Every started session is counted once, as ok or as one error kind. */
  public record Result(long ok, long errors, Map<String, Long> errorsByKind, double seconds,
                       long p50Micros, long p99Micros, long maxMicros) {
    public double rate() {
      return seconds <= 0 ? 0 : ok / seconds;
    }

    public String line() {
      return String.format(java.util.Locale.ROOT,
          "sessions_ok=%d errors=%d seconds=%.2f rate=%.1f p50_us=%d p99_us=%d max_us=%d errors_by_kind=%s",
          ok, errors, seconds, rate(), p50Micros, p99Micros, maxMicros, errorsByKind);
    }
  }

  static final String CONNECT = "connect";
  static final String TIMEOUT = "timeout";
  static final String SHORT_REPLY = "short_reply";
  static final String BAD_REPLY = "bad_reply";
  static final String IO = "io";

  private SessionLoad() {}

  public static Result run(Settings settings) throws InterruptedException {
    if (!settings.warmup().isZero() && !settings.warmup().isNegative()) {
      phase(settings, Long.MAX_VALUE, settings.warmup());
    }
    return phase(settings, settings.maxSessions(), settings.duration());
  }

  private static Result phase(Settings s, long maxSessions, Duration duration) throws InterruptedException {
    AtomicLong tickets = new AtomicLong();
    long start = System.nanoTime();
    long deadline = start + duration.toNanos();
    List<Worker> workers = new ArrayList<>();
    for (int i = 0; i < s.threads(); i++) {
      Worker w = new Worker(s, tickets, maxSessions, deadline);
      w.thread = new Thread(w, "session-load-" + i);
      w.thread.setDaemon(true);
      workers.add(w);
      w.thread.start();
    }
    for (Worker w : workers) {
      w.thread.join();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long ok = 0;
    long errors = 0;
    Map<String, Long> byKind = new TreeMap<>();
    long[] all = new long[0];
    for (Worker w : workers) {
      ok += w.ok;
      int from = all.length;
      all = Arrays.copyOf(all, from + w.latencyCount);
      System.arraycopy(w.latencies, 0, all, from, w.latencyCount);
      for (Map.Entry<String, Long> e : w.errors.entrySet()) {
        byKind.merge(e.getKey(), e.getValue(), Long::sum);
        errors += e.getValue();
      }
    }
    Arrays.sort(all);
    return new Result(ok, errors, byKind, seconds,
        percentile(all, 0.50), percentile(all, 0.99), all.length == 0 ? 0 : all[all.length - 1]);
  }

  private static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
    return sorted[Math.max(0, i)];
  }

  /** One client thread; fields are read by the coordinator after join. */
  private static final class Worker implements Runnable {
    private final Settings settings;
    private final AtomicLong tickets;
    private final long maxSessions;
    private final long deadline;
    private final Map<String, Long> errors = new TreeMap<>();
    private long[] latencies = new long[1024];
    private int latencyCount;
    private long ok;
    private Thread thread;

    Worker(Settings settings, AtomicLong tickets, long maxSessions, long deadline) {
      this.settings = settings;
      this.tickets = tickets;
      this.maxSessions = maxSessions;
      this.deadline = deadline;
    }

    @Override
    public void run() {
      byte[] request = new byte[ShortSession.REQUEST_BYTES];
      byte[] reply = new byte[ShortSession.REPLY_BYTES];
      byte[] scratch = new byte[ShortSession.REPLY_BYTES];
      int timeoutMillis = (int) settings.ioTimeout().toMillis();
      while (System.nanoTime() < deadline) {
        long ticket = tickets.getAndIncrement();
        if (ticket >= maxSessions) {
          return;
        }
        ShortSession.fillRequest(request, ticket);
        long t0 = System.nanoTime();
        String error = oneSession(timeoutMillis, request, reply, scratch);
        if (error == null) {
          ok++;
          record((System.nanoTime() - t0) / 1_000);
        } else {
          errors.merge(error, 1L, Long::sum);
        }
      }
    }

    private String oneSession(int timeoutMillis, byte[] request, byte[] reply, byte[] scratch) {
      try (Socket socket = new Socket()) {
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(timeoutMillis);
        try {
          socket.connect(settings.target(), timeoutMillis);
        } catch (ConnectException | SocketTimeoutException e) {
          return CONNECT;
        }
        socket.getOutputStream().write(request);
        InputStream in = socket.getInputStream();
        if (ShortSession.readFully(in, reply) < reply.length) {
          return SHORT_REPLY;
        }
        return ShortSession.replyMatches(request, reply, scratch) ? null : BAD_REPLY;
      } catch (SocketTimeoutException e) {
        return TIMEOUT;
      } catch (IOException e) {
        return IO;
      }
    }

    private void record(long micros) {
      if (latencyCount == latencies.length) {
        latencies = Arrays.copyOf(latencies, latencies.length * 2);
      }
      latencies[latencyCount++] = micros;
    }
  }

  public static void main(String[] args) throws Exception {
    Settings settings;
    try {
      settings = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("SessionLoad: " + e.getMessage() + "\nusage: SessionLoad --target 127.0.0.1:PORT"
          + " [--threads 8] [--sessions 1000000] [--seconds 8] [--warmup-seconds 1] [--timeout-seconds 5]");
      System.exit(2);
      return;
    }
    System.out.println(run(settings).line());
  }

  static Settings parse(String[] args) {
    String target = null;
    int threads = 8;
    long sessions = 1_000_000;
    double seconds = 8;
    double warmup = 1;
    double timeout = 5;
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      String v = args[i + 1];
      try {
        switch (args[i]) {
          case "--target" -> target = v;
          case "--threads" -> threads = Integer.parseInt(v);
          case "--sessions" -> sessions = Long.parseLong(v);
          case "--seconds" -> seconds = Double.parseDouble(v);
          case "--warmup-seconds" -> warmup = Double.parseDouble(v);
          case "--timeout-seconds" -> timeout = Double.parseDouble(v);
          default -> throw new IllegalArgumentException("unknown option " + args[i]);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(args[i] + ": '" + v + "' is not a number");
      }
    }
    if (target == null) {
      throw new IllegalArgumentException("--target is required");
    }
    if (seconds <= 0 || seconds > 3600 || warmup < 0 || warmup > 600 || timeout <= 0 || timeout > 600) {
      throw new IllegalArgumentException("--seconds must be in (0, 3600], --warmup-seconds in [0, 600],"
          + " --timeout-seconds in (0, 600]");
    }
    return new Settings(ShortSession.loopbackAddress(target), threads, sessions,
        Duration.ofMillis((long) (seconds * 1000)), Duration.ofMillis((long) (warmup * 1000)),
        Duration.ofMillis((long) (timeout * 1000)));
  }
}
