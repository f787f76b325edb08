package net.wanrelay.it.wan;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The user-space WAN emulator, run as a child JVM inside the {@code wan} namespace (the kernel
 * here has no sch_netem). The topology policy-routes packets arriving from the client side into
 * {@link #TUN_C2S} and those from the server side into {@link #TUN_S2C}; for each direction a
 * reader thread takes packets from one device and decides their fate ({@link LinkShaper}), and a
 * sender thread writes them into the other device when their time has come (parkNanos on a FIFO
 * whose deadlines never decrease), from where the kernel routes them on.
 *
 * <p>Control channel: one command per line on stdin, one answer line ({@code OK ...} or
 * {@code ERR ...}) on stdout:
 * <pre>
 *   set c2s|s2c|both delay=25ms jitter=1ms loss=1% rate=100mbit queue=1000   (queue: packets, or 256kib)
 *   show                        current settings of both directions
 *   cut [c2s|s2c|both] 10s      drop everything for that long (a link outage); "cut ... off" ends it
 *   strip-options on|off        NOP out unknown TCP options in SYN / SYN-ACK (discovery fallback tests)
 *   drop-options on|off         drop SYN / SYN-ACK segments that carry an unknown TCP option
 *   stats                       counters per direction
 *   reset-stats
 *   quit                        (so does end of stdin, so the emulator dies with its parent)
 * </pre>
 */
public final class WanEmulator {
  public static final String TUN_C2S = "tun-c2s";
  public static final String TUN_S2C = "tun-s2c";

  private final Direction c2s;
  private final Direction s2c;
  private volatile boolean stripOptions;
  private volatile boolean dropOptions;
  private final PrintStream out;

  WanEmulator(Tun c2sTun, Tun s2cTun, PrintStream out) {
    this.out = out;
    SplittableRandom seed = new SplittableRandom();
    this.c2s = new Direction("c2s", c2sTun, s2cTun, seed.split());
    this.s2c = new Direction("s2c", s2cTun, c2sTun, seed.split());
  }

  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    WanEmulator emulator;
    try {
      emulator = new WanEmulator(new Tun(TUN_C2S), new Tun(TUN_S2C), out);
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      out.println("FAILED " + e);
      System.exit(2);
      return;
    }
    emulator.start();
    out.println("READY " + TUN_C2S + " " + TUN_S2C);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      String answer = emulator.command(line.strip());
      if (answer == null) {
        break;
      }
      out.println(answer);
    }
    out.println("BYE");
    System.exit(0);
  }

  void start() {
    c2s.start();
    s2c.start();
  }

  /** Executes one control command; returns the answer line, or null for quit. */
  String command(String line) {
    if (line.isEmpty()) {
      return "ERR empty command";
    }
    String[] w = line.split("\\s+");
    try {
      switch (w[0].toLowerCase(Locale.ROOT)) {
        case "set": {
          if (w.length < 2) {
            return "ERR usage: set c2s|s2c|both key=value...";
          }
          String words = line.substring(line.indexOf(w[1]) + w[1].length());
          Direction[] ds = directions(w[1]);
          LinkSettings[] next = new LinkSettings[ds.length];
          for (int i = 0; i < ds.length; i++) {
            next[i] = ds[i].settings.with(words); // parse everything before changing anything
          }
          for (int i = 0; i < ds.length; i++) {
            ds[i].settings = next[i];
          }
          return "OK " + show();
        }
        case "show":
          return "OK " + show();
        case "cut": {
          String dir = w.length >= 3 ? w[1] : "both";
          String how = w.length >= 3 ? w[2] : (w.length == 2 ? w[1] : "");
          if (how.isEmpty()) {
            return "ERR usage: cut [c2s|s2c|both] DURATION|off";
          }
          Direction[] ds = directions(dir);
          long until = how.equalsIgnoreCase("off") ? Long.MIN_VALUE : System.nanoTime() + LinkSettings.parseNanos(how);
          for (Direction d : ds) {
            d.cutUntil = until;
          }
          return "OK cut " + dir + " " + how;
        }
        case "strip-options": {
          if (w.length != 2 || !(w[1].equals("on") || w[1].equals("off"))) {
            return "ERR usage: strip-options on|off";
          }
          stripOptions = w[1].equals("on");
          return "OK strip-options " + w[1];
        }
        case "drop-options": {
          if (w.length != 2 || !(w[1].equals("on") || w[1].equals("off"))) {
            return "ERR usage: drop-options on|off";
          }
          dropOptions = w[1].equals("on");
          return "OK drop-options " + w[1];
        }
        case "stats":
          return "STATS " + c2s.stats() + " " + s2c.stats();
        case "reset-stats":
          c2s.resetStats();
          s2c.resetStats();
          return "OK reset-stats";
        case "quit":
          return null;
        default:
          return "ERR unknown command '" + w[0] + "' (set, show, cut, strip-options, drop-options, stats, reset-stats, quit)";
      }
    } catch (IllegalArgumentException e) {
      return "ERR " + e.getMessage();
    }
  }

  private Direction[] directions(String which) {
    return switch (which.toLowerCase(Locale.ROOT)) {
      case "c2s" -> new Direction[] {c2s};
      case "s2c" -> new Direction[] {s2c};
      case "both" -> new Direction[] {c2s, s2c};
      default -> throw new IllegalArgumentException("direction must be c2s, s2c or both, got '" + which + "'");
    };
  }

  private String show() {
    return "c2s[" + c2s.settings + "] s2c[" + s2c.settings + "] strip-options=" + (stripOptions ? "on" : "off")
        + " drop-options=" + (dropOptions ? "on" : "off");
  }

  private record Timed(byte[] packet, long due) {}

  /** One direction: a reader thread that shapes, a sender thread that waits and writes. */
  private final class Direction {
    final String name;
    final Tun from;
    final Tun to;
    final LinkShaper shaper;
    final ConcurrentLinkedQueue<Timed> line = new ConcurrentLinkedQueue<>();
    volatile LinkSettings settings = LinkSettings.PASS_THROUGH;
    volatile long cutUntil = Long.MIN_VALUE;
    long appliedCut = Long.MIN_VALUE;
    volatile Thread sender;
    final AtomicLong passed = new AtomicLong();
    final AtomicLong passedBytes = new AtomicLong();
    final AtomicLong lost = new AtomicLong();
    final AtomicLong queueDrops = new AtomicLong();
    final AtomicLong cutDrops = new AtomicLong();
    final AtomicLong stripped = new AtomicLong();
    final AtomicLong optionDrops = new AtomicLong();
    final AtomicLong writeErrors = new AtomicLong();

    Direction(String name, Tun from, Tun to, SplittableRandom random) {
      this.name = name;
      this.from = from;
      this.to = to;
      this.shaper = new LinkShaper(random);
    }

    void start() {
      Thread s = new Thread(this::sendLoop, "wan-send-" + name);
      s.setDaemon(true);
      s.setPriority(Thread.MAX_PRIORITY);
      sender = s;
      s.start();
      Thread r = new Thread(this::readLoop, "wan-read-" + name);
      r.setDaemon(true);
      r.start();
    }

    void readLoop() {
      while (true) {
        byte[] p;
        try {
          p = from.read();
        } catch (RuntimeException e) {
          out.println("ERR reading " + from.name() + ": " + e.getMessage());
          return;
        }
        long now = System.nanoTime();
        if (cutUntil != appliedCut) {
          appliedCut = cutUntil;
          shaper.cutUntil(appliedCut);
        }
        if (dropOptions && SynOptionStripper.hasUnknownOption(p, p.length)) {
          optionDrops.incrementAndGet();
          continue;
        }
        if (stripOptions && SynOptionStripper.strip(p, p.length) > 0) {
          stripped.incrementAndGet();
        }
        switch (shaper.admit(now, p.length, settings)) {
          case PASS -> {
            line.add(new Timed(p, shaper.deliveryTime()));
            LockSupport.unpark(sender);
          }
          case LOST -> lost.incrementAndGet();
          case QUEUE_FULL -> queueDrops.incrementAndGet();
          case CUT -> cutDrops.incrementAndGet();
        }
      }
    }

    void sendLoop() {
      while (true) {
        Timed t = line.peek();
        if (t == null) {
          LockSupport.parkNanos(50_000_000L);
          continue;
        }
        long wait = t.due() - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait); // an earlier unpark may end this early; the loop re-checks
          continue;
        }
        line.poll();
        try {
          to.write(t.packet());
          passed.incrementAndGet();
          passedBytes.addAndGet(t.packet().length);
        } catch (RuntimeException e) {
          writeErrors.incrementAndGet(); // e.g. a packet the kernel refuses; keep going
        }
      }
    }

    String stats() {
      return name + " passed=" + passed.get() + " bytes=" + passedBytes.get() + " lost=" + lost.get()
          + " queue_drops=" + queueDrops.get() + " cut_drops=" + cutDrops.get() + " stripped=" + stripped.get()
          + " option_drops=" + optionDrops.get() + " write_errors=" + writeErrors.get() + " in_flight=" + line.size();
    }

    void resetStats() {
      for (AtomicLong a : new AtomicLong[] {passed, passedBytes, lost, queueDrops, cutDrops, stripped, optionDrops, writeErrors}) {
        a.set(0);
      }
    }
  }
}
