package net.wanrelay.testsupport;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Throw-away EC certificates for TLS tests, made with the openssl CLI in a test's directory. */
public final class TestCertificates {
  private TestCertificates() {}

  /** True when the openssl CLI is installed (tests assume it, and skip with a message otherwise). */
  public static boolean opensslAvailable() {
    return new File("/usr/bin/openssl").canExecute() || new File("/usr/local/bin/openssl").canExecute();
  }

  /** A self-signed CA: {@code dir/NAME.crt} and {@code dir/NAME.key}. */
  public static void ca(Path dir, String name) throws IOException, InterruptedException {
    openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", name + ".key", "-out", name + ".crt", "-days", "2", "-subj", "/CN=" + name);
  }

  /** A certificate signed by {@code ca}: {@code dir/NAME.crt} and its PKCS#8 {@code dir/NAME.key}. */
  public static void cert(Path dir, String name, String ca) throws IOException, InterruptedException {
    openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name);
    openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
        "-CAcreateserial", "-out", name + ".crt", "-days", "2");
  }

  private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException("openssl failed: " + cmd + ": " + out);
    }
  }
}
