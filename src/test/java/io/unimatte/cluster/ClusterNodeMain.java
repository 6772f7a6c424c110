package io.unimatte.cluster;

import io.unimatte.Main;
import io.unimatte.OneLineLogFormatter;
import io.unimatte.UnimatteServer;
import io.unimatte.config.AppConfig;
import io.unimatte.inference.MattingSession;
import io.unimatte.testing.TestSessions;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/**
 * One Unimatte node in its own JVM, for {@link ClusterTest}: {@code config.json} plus the given
 * {@code --section.key=value} flags, like the real {@code Main}. The first argument is the
 * per-session-call delay in milliseconds (the tiny model takes microseconds; a worker that is
 * killed "mid-run" needs a run that lasts).
 */
public final class ClusterNodeMain {
  private ClusterNodeMain() {
  }

  public static void main(String[] args) {
    OneLineLogFormatter.install();
    long delayMs = Long.parseLong(args[0]);
    AppConfig config = AppConfig.load(Path.of(AppConfig.DEFAULT_FILE), Map.of(),
        Arrays.copyOfRange(args, 1, args.length));
    JsonObject models = config.section("models");
    Supplier<MattingSession> slow = TestSessions.slowTinyModel(
        Path.of(models.getString("dir"), models.getString("default")), delayMs, new CountDownLatch(0));
    UnimatteServer.SessionFactory sessions = delayMs > 0 ? model -> slow.get() : UnimatteServer.tensorFlowSessions(config);
    Main.run(config, sessions, System.nanoTime());
  }
}
