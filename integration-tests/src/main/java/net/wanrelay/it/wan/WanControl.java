package net.wanrelay.it.wan;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.wanrelay.it.netns.NsProcess;

/** Drives a running {@link WanEmulator} through its stdin control channel. */
public final class WanControl {
  private static final Pattern ANSWER = Pattern.compile("^(OK|ERR|STATS)\\b");
  private static final Pattern COUNTER = Pattern.compile("(\\w+)=(\\d+)");
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);

  private final NsProcess process;

  public WanControl(NsProcess process) {
    this.process = process;
  }

  public NsProcess process() {
    return process;
  }

  /** Sends one command line and returns the emulator's answer; an {@code ERR} answer throws. */
  public synchronized String command(String line) {
    long from = process.lineCount();
    process.send(line);
    String answer = process.awaitLine(ANSWER, from, ANSWER_TIMEOUT);
    if (answer.startsWith("ERR")) {
      throw new IllegalArgumentException("wan emulator refused '" + line + "': " + answer);
    }
    return answer;
  }

  /** {@code set c2s|s2c|both key=value...}, e.g. {@code set("both", "delay=25ms rate=100mbit")}. */
  public String set(String direction, String settings) {
    return command("set " + direction + " " + settings);
  }

  /** Same delay, loss and rate both ways; {@code rate} like "100mbit" or "unlimited". */
  public String symmetric(Duration oneWayDelay, double loss, String rate) {
    return set("both", "delay=" + oneWayDelay.toNanos() + "ns loss=" + loss + " rate=" + rate);
  }

  /** Back to no delay, no loss, no rate limit, queue 1000 packets, link up, options kept and passed. */
  public void reset() {
    set("both", "delay=0 jitter=0 loss=0 rate=unlimited queue=1000");
    command("cut both off");
    stripOptions(false);
    dropOptions(false);
  }

  /** Drops everything in both directions for {@code duration}. */
  public void cut(Duration duration) {
    command("cut both " + duration.toNanos() + "ns");
  }

  public void stripOptions(boolean on) {
    command("strip-options " + (on ? "on" : "off"));
  }

  /** Drop SYN and SYN-ACK segments carrying an unknown TCP option (a middlebox that drops, not strips). */
  public void dropOptions(boolean on) {
    command("drop-options " + (on ? "on" : "off"));
  }

  public void resetStats() {
    command("reset-stats");
  }

  /** Counters per direction, keyed like {@code c2s.passed}, {@code s2c.lost}, {@code c2s.stripped}. */
  public Map<String, Long> stats() {
    String line = command("stats");
    Map<String, Long> out = new HashMap<>();
    String dir = null;
    for (String word : line.split("\\s+")) {
      if (word.equals("c2s") || word.equals("s2c")) {
        dir = word;
        continue;
      }
      Matcher m = COUNTER.matcher(word);
      if (dir != null && m.matches()) {
        out.put(dir + "." + m.group(1), Long.parseLong(m.group(2)));
      }
    }
    return out;
  }
}
