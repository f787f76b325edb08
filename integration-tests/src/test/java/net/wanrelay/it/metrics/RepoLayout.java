package net.wanrelay.it.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Where the repository's files are, seen from the integration-tests module (surefire's working dir). */
public final class RepoLayout {
  private RepoLayout() {}

  /** The repository root: the nearest ancestor of the working directory holding docker/docker-compose.yml. */
  public static Path root() {
    Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("docker/docker-compose.yml"))) {
        return p;
      }
    }
    throw new IllegalStateException("no docker/docker-compose.yml above " + dir);
  }

  public static Path dockerDir() {
    return root().resolve("docker");
  }

  /**
   * The shaded relay jar: -Dwanrelay.jar=PATH, else relay-core/target/wanrelay.jar (integration-tests
   * builds after relay-core in the reactor, so it exists during verify).
   */
  public static Path relayJar() {
    String override = System.getProperty("wanrelay.jar", "");
    Path jar = override.isBlank() ? root().resolve("relay-core/target/wanrelay.jar") : Path.of(override);
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: build it with ./mvnw -q -B package -DskipTests -pl relay-core -am");
    }
    return jar;
  }

  /** A private copy of the relay jar, so a concurrent rebuild of relay-core cannot pull it from under a running relay. */
  public static Path privateRelayJar(Path dir) {
    try {
      return Files.copy(relayJar(), dir.resolve("wanrelay.jar"), StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
