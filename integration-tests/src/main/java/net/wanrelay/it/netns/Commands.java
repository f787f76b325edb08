package net.wanrelay.it.netns;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short host commands (ip, sysctl, kill) with a deadline and captured output. */
public final class Commands {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private Commands() {}

  public static ExecResult run(List<String> command) {
    return run(command, null, DEFAULT_TIMEOUT);
  }

  /**
   * Runs {@code command}, feeding {@code stdin} (may be null), and waits at most {@code timeout}.
   * Output goes to temporary files rather than pipes so a chatty command can never block on us.
   */
  public static ExecResult run(List<String> command, String stdin, Duration timeout) {
    File out = null;
    File err = null;
    try {
      out = File.createTempFile("wrt-out", ".txt");
      err = File.createTempFile("wrt-err", ".txt");
      ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out).redirectError(err);
      if (stdin == null) {
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
      }
      Process p = pb.start();
      if (stdin != null) {
        try (OutputStream os = p.getOutputStream()) {
          os.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        return new ExecResult(command, -1, read(out), read(err) + "\n(timed out after " + timeout + ")");
      }
      return new ExecResult(command, p.exitValue(), read(out), read(err));
    } catch (IOException e) {
      return new ExecResult(command, -1, "", "cannot run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ExecResult(command, -1, "", "interrupted");
    } finally {
      if (out != null) {
        out.delete();
      }
      if (err != null) {
        err.delete();
      }
    }
  }

  private static String read(File f) throws IOException {
    try (InputStream in = Files.newInputStream(f.toPath())) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
