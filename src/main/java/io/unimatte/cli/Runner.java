package io.unimatte.cli;

import java.util.List;

/** Cuts a list of images, in-process or on a server; reports each one as it finishes. */
interface Runner extends AutoCloseable {

  /** Gets ready (loads the model, or reaches the server); fails with a message for the user. */
  void start() throws StartException;

  /**
   * Cuts the images, at most a bounded number at once, and returns when each one that was started
   * is reported; stops starting new ones once {@code stop} is set.
   *
   * @return how many images were never started (after a stop)
   */
  int run(List<InputSet.Item> items, Report report, StopSignal stop) throws InterruptedException;

  /** Where the work ran, for the summary ("embedded, model isnet"). */
  String where();

  @Override
  void close();

  /** The runner could not get ready: no model, no server. */
  final class StartException extends Exception {
    private static final long serialVersionUID = 1L;

    StartException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
