package io.unimatte.cli;

import io.unimatte.OneLineLogFormatter;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The tool's terminal belongs to the progress bar and the user's lines: the server's log lines
 * ({@code event=...}, Vert.x, the terminal library) are off unless {@code --verbose}, which prints them
 * on stderr in the server's one-line format.
 */
final class CliLogging {
  private CliLogging() {
  }

  static void configure(boolean verbose) {
    if (verbose) {
      OneLineLogFormatter.install();
      return;
    }
    Logger root = Logger.getLogger("");
    for (Handler h : root.getHandlers()) {
      root.removeHandler(h);
    }
    root.setLevel(Level.OFF);
  }
}
