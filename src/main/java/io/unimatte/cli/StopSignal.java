package io.unimatte.cli;

/**
 * Set once when the user asks the tool to stop (Ctrl-C): the runners then start no new image and
 * finish the ones in flight.
 */
final class StopSignal {
  private volatile boolean requested;

  void request() {
    requested = true;
  }

  boolean requested() {
    return requested;
  }
}
