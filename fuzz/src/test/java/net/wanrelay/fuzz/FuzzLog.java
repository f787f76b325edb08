package net.wanrelay.fuzz;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Records log events that carry an exception. Handlers that catch "unexpected" errors log them
 * with the exception and close the channel; for a fuzz test that is a crash in disguise, so a test
 * calls {@link #take()} after each input and fails on anything recorded.
 */
final class FuzzLog {
  private static final Recorder RECORDER = new Recorder();

  static {
    RECORDER.start();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(RECORDER);
  }

  private FuzzLog() {}

  /** Makes sure the recorder is attached (class initialisation). */
  static void install() {}

  /** The recorded events since the last call, formatted; empty when none. */
  static List<String> take() {
    synchronized (RECORDER.events) {
      List<String> copy = new ArrayList<>(RECORDER.events);
      RECORDER.events.clear();
      return copy;
    }
  }

  private static final class Recorder extends AppenderBase<ILoggingEvent> {
    final List<String> events = new ArrayList<>();

    @Override
    protected void append(ILoggingEvent e) {
      if (e.getThrowableProxy() != null && e.getLevel().isGreaterOrEqual(Level.WARN)) {
        synchronized (events) {
          events.add(e.getLoggerName() + ": " + e.getFormattedMessage() + ": "
              + e.getThrowableProxy().getClassName() + ": " + e.getThrowableProxy().getMessage());
        }
      }
    }
  }
}
