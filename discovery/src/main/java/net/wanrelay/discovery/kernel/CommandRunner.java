package net.wanrelay.discovery.kernel;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs system commands (nft, iptables, ip, sysctl); a seam so tests can target a namespace. */
@FunctionalInterface
public interface CommandRunner {
  record Result(int exitCode, String stdout, String stderr) {
    public boolean ok() {
      return exitCode == 0;
    }
  }

  Result run(List<String> command, String stdin) throws IOException;

  /** Runs commands in this process's network namespace. */
  static CommandRunner local() {
    return CommandRunner::exec;
  }

  /** Runs commands inside network namespace {@code ns} through {@code ip netns exec}. */
  static CommandRunner inNamespace(String ns) {
    return (command, stdin) -> {
      List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", ns));
      full.addAll(command);
      return exec(full, stdin);
    };
  }

  /** Runs and waits at most 30 s; output is read fully (small for these tools). */
  static Result exec(List<String> command, String stdin) throws IOException {
    Process p = new ProcessBuilder(command).start();
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread errReader = new Thread(() -> copy(p.getErrorStream(), err), "cmd-stderr");
    errReader.setDaemon(true);
    errReader.start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    copy(p.getInputStream(), out);
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("command timed out: " + String.join(" ", command));
      }
      errReader.join(1000);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted running " + String.join(" ", command), e);
    }
    return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    try (in) {
      in.transferTo(out);
    } catch (IOException ignored) {
      // the process went away; what was read is what there is
    }
  }
}
