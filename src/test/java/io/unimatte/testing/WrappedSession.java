package io.unimatte.testing;

import io.unimatte.inference.MattingSession;
import io.unimatte.modelimport.ModelDescriptor;

import java.util.List;

/**
 * A real session with test-controlled pacing before each call, and a choice of whether closing
 * it closes the real one (shared sessions must outlive each test's server).
 */
public class WrappedSession implements MattingSession {
  /** Runs before each session call (e.g. wait on a latch, sleep). */
  @FunctionalInterface
  public interface BeforeRun {
    void run() throws Exception;
  }

  private final MattingSession delegate;
  private final BeforeRun beforeRun;
  private final boolean closeDelegate;

  public WrappedSession(MattingSession delegate, BeforeRun beforeRun, boolean closeDelegate) {
    this.delegate = delegate;
    this.beforeRun = beforeRun;
    this.closeDelegate = closeDelegate;
  }

  @Override
  public ModelDescriptor descriptor() {
    return delegate.descriptor();
  }

  @Override
  public String device() {
    return delegate.device();
  }

  @Override
  public synchronized List<float[]> run(List<io.unimatte.inference.ModelInput> inputs) throws Exception {
    beforeRun.run();
    return delegate.run(inputs);
  }

  @Override
  public void close() {
    if (closeDelegate) {
      delegate.close();
    }
  }
}
