package io.unimatte;

import java.time.Instant;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One log line per event: {@code time level logger message}. A throwable's stack trace is printed
 * only for unexpected errors (level SEVERE); everything else gets its message on the same line.
 */
public final class OneLineLogFormatter extends Formatter {

  /** System property naming the {@link LogManager} class (read once, when logging is first used). */
  private static final String MANAGER_PROPERTY = "java.util.logging.manager";
  /** The JDK's shutdown hook that resets logging. */
  private static final String JDK_LOG_CLEANER = "java.util.logging.LogManager$Cleaner";

  /**
   * Keeps the log open while the server stops: the JDK's own shutdown hook resets logging
   * (removing every handler) in parallel with ours, so the last lines of a SIGTERM (jobs saved,
   * shutdown done) were lost. Effective only when called before logging is first used.
   */
  public static void keepOpenAtShutdown() {
    if (System.getProperty(MANAGER_PROPERTY) == null) {
      System.setProperty(MANAGER_PROPERTY, KeepOpenLogManager.class.getName());
    }
  }

  /** A {@link LogManager} that ignores the reset of the JDK's shutdown hook (the process is exiting anyway). */
  public static final class KeepOpenLogManager extends LogManager {
    @Override
    public void reset() {
      if (!JDK_LOG_CLEANER.equals(Thread.currentThread().getClass().getName())) {
        super.reset();
      }
    }
  }

  /** Replaces the root logger's handlers with one console handler using this format. */
  public static void install() {
    keepOpenAtShutdown();
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    ConsoleHandler handler = new ConsoleHandler();
    handler.setFormatter(new OneLineLogFormatter());
    handler.setLevel(Level.ALL);
    root.addHandler(handler);
  }

  @Override
  public String format(LogRecord r) {
    StringBuilder sb = new StringBuilder(128)
        .append(Instant.ofEpochMilli(r.getMillis())).append(' ')
        .append(r.getLevel().getName()).append(' ')
        .append(shortName(r.getLoggerName())).append(' ')
        .append(formatMessage(r).replace('\n', ' '));
    Throwable t = r.getThrown();
    if (t != null) {
      sb.append(" error=").append(t);
    }
    sb.append('\n');
    if (t != null && r.getLevel().intValue() >= Level.SEVERE.intValue()) {
      java.io.StringWriter sw = new java.io.StringWriter();
      t.printStackTrace(new java.io.PrintWriter(sw));
      sb.append(sw);
    }
    return sb.toString();
  }

  private static String shortName(String name) {
    if (name == null) {
      return "-";
    }
    int dot = name.lastIndexOf('.');
    return dot < 0 ? name : name.substring(dot + 1);
  }
}
