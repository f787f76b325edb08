package net.wanrelay.it.netns;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A long-running process started inside a namespace. Its stdout and stderr are read line by line
 * into a bounded in-memory log (so the child never blocks on a full pipe); callers can wait for a
 * line, write lines to its stdin (a control channel), and stop it. Closing it kills the process
 * and everything it started.
 */
public final class NsProcess implements AutoCloseable {
  private static final int MAX_LINES = 20_000;

  private final String namespace;
  private final String name;
  private final Process process;
  private final OutputStream stdin;
  private final ArrayDeque<String> lines = new ArrayDeque<>();
  private long firstLineIndex;
  private int openStreams = 2;

  NsProcess(String namespace, String name, Process process) {
    this.namespace = namespace;
    this.name = name;
    this.process = process;
    this.stdin = process.getOutputStream();
    startDrain(process.getInputStream(), "");
    startDrain(process.getErrorStream(), "[stderr] ");
  }

  private void startDrain(InputStream in, String prefix) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          append(prefix + line);
        }
      } catch (IOException ignored) {
        // the process went away; what was read is kept
      } finally {
        synchronized (lines) {
          openStreams--;
          lines.notifyAll();
        }
      }
    }, "out-" + name);
    t.setDaemon(true);
    t.start();
  }

  private void append(String line) {
    synchronized (lines) {
      lines.addLast(line);
      if (lines.size() > MAX_LINES) {
        lines.removeFirst();
        firstLineIndex++;
      }
      lines.notifyAll();
    }
  }

  public String namespace() {
    return namespace;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Number of output lines seen so far (an index to pass to {@link #awaitLine(Pattern, long, Duration)}). */
  public long lineCount() {
    synchronized (lines) {
      return firstLineIndex + lines.size();
    }
  }

  /** Everything still in the log (stdout and stderr interleaved, stderr lines prefixed). */
  public String output() {
    synchronized (lines) {
      return String.join("\n", lines);
    }
  }

  /** Waits for a line matching {@code pattern} anywhere in the output. */
  public String awaitLine(Pattern pattern, Duration timeout) {
    return awaitLine(pattern, 0, timeout);
  }

  /**
   * Waits for a line with index {@code >= fromIndex} that contains a match of {@code pattern}.
   * Throws with the output so far when the deadline passes or the process ends first.
   */
  public String awaitLine(Pattern pattern, long fromIndex, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lines) {
      long next = Math.max(fromIndex, firstLineIndex);
      while (true) {
        List<String> snapshot = new ArrayList<>(lines);
        for (long i = next; i < firstLineIndex + snapshot.size(); i++) {
          String line = snapshot.get((int) (i - firstLineIndex));
          if (pattern.matcher(line).find()) {
            return line;
          }
        }
        next = firstLineIndex + snapshot.size();
        long left = deadline - System.nanoTime();
        if (left <= 0 || (openStreams == 0 && !process.isAlive())) {
          throw new IllegalStateException(name + " in " + namespace + ": no line matching /" + pattern + "/ "
              + (left <= 0 ? "within " + timeout : "before it exited (" + exitDescription() + ")")
              + "; output:\n" + output());
        }
        try {
          lines.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
    }
  }

  private String exitDescription() {
    return process.isAlive() ? "running" : "exit " + process.exitValue();
  }

  /** Writes one line to the process's stdin. */
  public void send(String line) {
    try {
      synchronized (stdin) {
        stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
      }
    } catch (IOException e) {
      throw new IllegalStateException(name + " in " + namespace + " no longer reads its stdin (" + exitDescription()
          + "); output:\n" + output(), e);
    }
  }

  /** Waits for the process to end by itself; returns its exit code, or -1 if it is still running. */
  public int waitFor(Duration timeout) {
    try {
      if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        synchronized (lines) {
          long deadline = System.currentTimeMillis() + 2000;
          while (openStreams > 0 && System.currentTimeMillis() < deadline) {
            lines.wait(100);
          }
        }
        return process.exitValue();
      }
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** Kills the process and its descendants (SIGTERM, then SIGKILL after a short grace). */
  @Override
  public void close() {
    List<ProcessHandle> all = new ArrayList<>(process.descendants().toList());
    all.add(process.toHandle());
    all.forEach(ProcessHandle::destroy);
    for (ProcessHandle h : all) {
      try {
        h.onExit().get(2, TimeUnit.SECONDS);
      } catch (Exception e) {
        h.destroyForcibly();
      }
    }
    try {
      stdin.close();
    } catch (IOException ignored) {
      // already gone
    }
  }

  @Override
  public String toString() {
    return name + "@" + namespace + "(pid " + process.pid() + ")";
  }
}
