package net.wanrelay.core.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import net.wanrelay.core.EmbeddedDefault;
import net.wanrelay.core.Relay;
import net.wanrelay.core.config.ConfigException;
import net.wanrelay.core.config.ConfigLoader;
import net.wanrelay.core.config.RelayConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The {@code wanrelay} command line. Exit codes: 0 ok, 1 runtime failure, 2 bad config or usage. */
@Command(name = "wanrelay", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "TCP/UDP relay for WAN links, deployed in pairs.",
    subcommands = {Main.Run.class, Main.CheckConfig.class, Main.VersionCommand.class,
        net.wanrelay.core.transparent.RulesCommand.class})
public final class Main {
  public static final int EXIT_CONFIG = 2;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setParameterExceptionHandler((ex, a) -> {
      ex.getCommandLine().getErr().println("wanrelay: " + ex.getMessage());
      ex.getCommandLine().usage(ex.getCommandLine().getErr());
      return EXIT_CONFIG;
    });
    if (args.length == 0) {
      cli.usage(cli.getOut());
      return EXIT_CONFIG;
    }
    return cli.execute(args);
  }

  static String version() {
    Properties p = new Properties();
    try (InputStream in = Main.class.getResourceAsStream("/wanrelay-version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException ignored) {
      // Falls back to "dev".
    }
    return p.getProperty("version", "dev");
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"wanrelay " + version() + " (java " + Runtime.version() + ")"};
    }
  }

  @Command(name = "version", description = "Print the version.")
  static final class VersionCommand implements Callable<Integer> {
    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().getOut().println(new Version().getVersion()[0]);
      return 0;
    }
  }

  @Command(name = "check-config", mixinStandardHelpOptions = true,
      description = "Validate a config file and exit: 0 when valid, 2 with one error line when not.")
  static final class CheckConfig implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, description = "YAML config file.")
    Path file;
    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      try {
        RelayConfig config = ConfigLoader.load(file);
        spec.commandLine().getOut().println(file + ": ok (" + config.listeners().size() + " listeners)");
        return 0;
      } catch (ConfigException e) {
        spec.commandLine().getErr().println("config error: " + e.getMessage());
        return EXIT_CONFIG;
      }
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Run the relay. Without -c: an embedded loopback demo that works at once.")
  static final class Run implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, description = "YAML config file.")
    Path file;
    @Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      // Signals first: a SIGTERM during start-up still ends in an orderly drain and exit 0.
      CountDownLatch stop = installStopSignals();
      PrintWriter out = spec.commandLine().getOut();
      RelayConfig config;
      EmbeddedDefault embedded = null;
      if (file == null) {
        embedded = EmbeddedDefault.start();
        config = embedded.config();
      } else {
        try {
          config = ConfigLoader.load(file);
        } catch (ConfigException e) {
          spec.commandLine().getErr().println("config error: " + e.getMessage());
          return EXIT_CONFIG;
        }
      }
      Relay relay;
      try {
        relay = new Relay(config).start();
      } catch (Exception e) {
        if (embedded != null) {
          embedded.stop();
        }
        spec.commandLine().getErr().println("wanrelay: cannot start: " + e);
        return 1;
      }
      out.println("wanrelay " + version() + " running (" + relay.transport().name() + "), node " + config.node().id());
      if (relay.transport().whyNotEpoll() != null) {
        out.println("  epoll off: " + relay.transport().whyNotEpoll());
      }
      out.println("  metrics: http://" + relay.adminAddress().getHostString() + ":" + relay.adminAddress().getPort() + "/metrics");
      if (embedded != null) {
        embedded.describe(out, relay);
      }
      out.flush();
      return awaitTermination(stop, relay, config.node().drainTimeout(), embedded, out);
    }
  }

  /** SIGTERM and SIGINT count the returned latch down instead of killing the JVM. */
  static CountDownLatch installStopSignals() {
    CountDownLatch stop = new CountDownLatch(1);
    sun.misc.SignalHandler handler = sig -> stop.countDown();
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
    sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
    return stop;
  }

  /** Blocks until a stop signal, then drains and returns exit code 0. */
  static int awaitTermination(CountDownLatch stop, Relay relay, Duration drain, EmbeddedDefault embedded, PrintWriter out) {
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    out.println("wanrelay: stopping, draining open sessions for up to " + drain.toSeconds() + "s");
    out.flush();
    long left = relay.shutdown(drain);
    if (embedded != null) {
      embedded.stop();
    }
    out.println("wanrelay: stopped" + (left > 0 ? " (" + left + " sessions closed at the drain deadline)" : ""));
    out.flush();
    return 0;
  }
}
