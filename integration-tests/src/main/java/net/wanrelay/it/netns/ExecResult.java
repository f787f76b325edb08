package net.wanrelay.it.netns;

import java.util.List;

/** Outcome of a finished command: exit code and captured output. */
public record ExecResult(List<String> command, int exitCode, String stdout, String stderr) {

  public boolean ok() {
    return exitCode == 0;
  }

  /** Returns this result, or throws with the command and its stderr when it did not exit 0. */
  public ExecResult orThrow() {
    if (!ok()) {
      throw new IllegalStateException("command failed (exit " + exitCode + "): " + String.join(" ", command)
          + (stderr.isBlank() ? "" : "\n" + stderr.strip()) + (stdout.isBlank() ? "" : "\nstdout: " + stdout.strip()));
    }
    return this;
  }
}
