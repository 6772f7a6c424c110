package io.unimatte.cli;

import io.unimatte.config.AppConfig;
import io.unimatte.imaging.output.OutputOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * {@code unimatte cut IN OUT [options]}: cuts the subject out of every image of IN into OUT, with the
 * API's output options, in-process (default) or on a server ({@code --server}).
 */
@Command(name = "cut", sortOptions = false, usageHelpAutoWidth = true,
    description = "Cuts the subject out of every image of IN (a file, a folder, a zip) into OUT, which mirrors "
        + "IN's folders. Embedded mode (default) loads the model in this process; --server sends the images to a "
        + "Unimatte server as batch jobs and follows them over its WebSocket.",
    footer = {"",
        "Embedded mode reads config.json (./config.json, else the installation's; or --config) and takes its "
            + "overrides as --section.key=value, e.g. --inference.maxBatchSize=8.",
        "",
        "Exit status: 0 every image done (or skipped), 1 some failed, 2 bad usage, 3 the model or server could "
            + "not be reached, 130 stopped with Ctrl-C."})
final class CutCommand implements Callable<Integer> {
  private static final Logger LOG = Logger.getLogger(CutCommand.class.getName());
  static final int EXIT_OK = 0;
  static final int EXIT_FAILURES = 1;
  static final int EXIT_USAGE = 2;
  static final int EXIT_CANNOT_START = 3;
  /** What a shell reports for a process stopped by SIGINT (128 + 2). */
  static final int EXIT_INTERRUPTED = 130;
  /** How long Ctrl-C waits for the images in flight before the process exits anyway. */
  private static final long STOP_WAIT_SECONDS = 300;
  /** Images per job in client mode (servers accept 500 by default). */
  private static final int DEFAULT_JOB_SIZE = 100;

  @Parameters(index = "0", paramLabel = "IN", description = "an image, a folder of images or a zip of images")
  Path in;

  @Parameters(index = "1", paramLabel = "OUT",
      description = "the folder of the results (created); for a single image also a file name (.png, .jpg)")
  Path out;

  @Option(names = {"-r", "--recursive"}, description = "also the images in IN's sub-folders")
  boolean recursive;

  @Option(names = "--output", paramLabel = "rgba|alpha", description = "cutout (default) or grey matte")
  String output;

  @Option(names = "--format", paramLabel = "png|jpg", description = "file format (default png; jpg on white "
      + "unless --bg)")
  String format;

  @Option(names = "--bg", paramLabel = "RRGGBB[AA]", description = "solid background colour")
  String bg;

  @Option(names = "--crop", description = "crop to the subject")
  boolean crop;

  @Option(names = "--crop-margin", paramLabel = "N|Npx|N%", description = "margin around the crop")
  String cropMargin;

  @Option(names = "--size", paramLabel = "full|preview|WxH", description = "output size bound (never upscaled)")
  String size;

  @Option(names = "--quality", paramLabel = "1-100", description = "JPEG quality")
  String quality;

  @Option(names = "--model", paramLabel = "NAME", description = "the model (default: models.default)")
  String model;

  @Option(names = "--no-refine", description = "no matte refinement at full resolution")
  boolean noRefine;

  @Option(names = {"--no-colour", "--no-color"}, description = "no colour estimation of soft edge pixels")
  boolean noColour;

  @Option(names = "--skip-existing", description = "leave images whose output exists and is newer than the input")
  boolean skipExisting;

  @Option(names = {"-q", "--quiet"}, description = "no progress bar, notices or summary; failures only")
  boolean quiet;

  @Option(names = "--json", description = "one JSON line per image on stdout (done, failed, skipped)")
  boolean json;

  @Option(names = {"-v", "--verbose"}, description = "the server's log lines (event=...) on stderr, no bar")
  boolean verbose;

  @Option(names = {"-j", "--parallel"}, paramLabel = "N",
      description = "embedded: images in the pipeline at once (default jobs.maxInFlight)")
  Integer parallel;

  @Option(names = "--server", paramLabel = "URL", description = "client mode: a Unimatte server, e.g. "
      + "http://gpu-box:8080")
  URI server;

  @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:UNIMATTE_API_KEY}",
      description = "client mode: the server's API key (default: $UNIMATTE_API_KEY)")
  String apiKey;

  @Option(names = "--job-size", paramLabel = "N", defaultValue = "" + DEFAULT_JOB_SIZE,
      description = "client mode: images per batch job (default ${DEFAULT-VALUE})")
  int jobSize;

  @Option(names = "--keep-jobs", description = "client mode: keep the jobs on the server (default: deleted "
      + "once downloaded)")
  boolean keepJobs;

  @Option(names = "--config", paramLabel = "FILE", description = "embedded: the configuration file")
  Path configFile;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "this help")
  boolean help;

  /** {@code --section.key=value} overrides of config.json (embedded mode). */
  @CommandLine.Unmatched
  List<String> overrides = new ArrayList<>();

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    CliLogging.configure(verbose);
    OutputOptions options;
    Map<String, String> params;
    AppConfig config = null;
    try {
      params = outputParams();
      options = OutputOptions.parse(params);
      if (server != null) {
        if (!overrides.isEmpty()) {
          throw usage("configuration overrides apply to embedded mode only: " + String.join(" ", overrides));
        }
        if (!server.isAbsolute() || !List.of("http", "https").contains(server.getScheme())) {
          throw usage("--server must be an http(s) URL, e.g. http://localhost:8080");
        }
        if (jobSize < 1) {
          throw usage("--job-size must be at least 1");
        }
      } else {
        config = ConfigLocator.load(configFile, overrides, System.getenv(), model);
      }
    } catch (OutputOptions.InvalidOptionException e) {
      throw usage("--" + e.parameter().replace('_', '-') + ": " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    String chosenModel = model != null ? model
        : config != null ? config.section("models").getString("default") : null;
    if (model != null) {
      params.put("model", model);
    }
    int inFlight = parallel != null ? parallel
        : config != null ? AppConfig.requireInt(config.section("jobs"), "maxInFlight") : 0;
    if (parallel != null && parallel < 1) {
      throw usage("--parallel must be at least 1");
    }

    InputSet inputs;
    try {
      inputs = InputSet.scan(in, out, recursive, options.format(), skipExisting);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    Report report = new Report(json, quiet, System.console() != null && !verbose, System.out, System.err);
    try (inputs) {
      inputs.existing().forEach(i -> report.skipped(i.name(), i.output().toString()));
      int total = inputs.todo().size() + inputs.rejected().size();
      if (total == 0) {
        report.begin(0);
        report.end(inputs.existing().size(), inputs.ignored(), 0, false, "nothing to do");
        return EXIT_OK;
      }
      try (Runner runner = server != null
          ? new ClientRunner(server, apiKey, params, jobSize, keepJobs, report)
          : new EmbeddedRunner(config, chosenModel, options, inFlight, report)) {
        try {
          runner.start();
        } catch (Runner.StartException e) {
          System.err.println("unimatte: " + e.getMessage());
          return EXIT_CANNOT_START;
        }
        return process(runner, inputs, report, total);
      }
    }
  }

  /** Runs the images with a Ctrl-C hook that lets the ones in flight finish. */
  private int process(Runner runner, InputSet inputs, Report report, int total) throws InterruptedException {
    StopSignal stop = new StopSignal();
    CountDownLatch finished = new CountDownLatch(1);
    AtomicBoolean reported = new AtomicBoolean();
    Thread hook = new Thread(() -> {
      if (reported.get()) {
        return;
      }
      stop.request();
      report.notice("stopping after the images in flight…");
      try {
        finished.await(STOP_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "unimatte-cli-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      long wall0 = System.nanoTime();
      long cpu0 = processCpuNanos();
      report.begin(total);
      inputs.rejected().forEach(r -> report.failed(r.name(), r.code().code(), r.message(), null));
      int notStarted = runner.run(inputs.todo(), report, stop);
      // CPU time tells the cost of an image even on a machine others share (bench/cli.sh reads it)
      LOG.info("event=cut_done images=" + (total - notStarted) + " wallMs="
          + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - wall0) + " cpuMs="
          + TimeUnit.NANOSECONDS.toMillis(processCpuNanos() - cpu0) + " where=\"" + runner.where() + "\"");
      report.end(inputs.existing().size(), inputs.ignored(), notStarted, stop.requested(), runner.where());
      reported.set(true);
    } finally {
      runner.close();
      finished.countDown();
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // Ctrl-C came: the hook has run
    }
    if (stop.requested()) {
      return EXIT_INTERRUPTED;
    }
    return report.failures() > 0 ? EXIT_FAILURES : EXIT_OK;
  }

  /** CPU time of this process so far (every thread); 0 where the JVM cannot tell. */
  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return Math.max(0, os.getProcessCpuTime());
    }
    return 0;
  }

  /** The output options as the API's parameters (what {@link OutputOptions#parse} and the server read). */
  private Map<String, String> outputParams() {
    Map<String, String> p = new LinkedHashMap<>();
    putIf(p, "output", output);
    String fmt = format;
    if (fmt == null && InputSet.namesFile(in, out)) {
      // `cut photo.jpg cutout.jpg`: the file name says the format
      fmt = InputSet.extension(out.getFileName().toString()).equals("png") ? null : "jpg";
    }
    putIf(p, "format", fmt);
    putIf(p, "bg", bg);
    if (crop) {
      p.put("crop", "true");
    }
    putIf(p, "crop_margin", cropMargin);
    putIf(p, "size", size);
    putIf(p, "quality", quality);
    if (noRefine) {
      p.put("refine", "false");
    }
    if (noColour) {
      p.put("colour", "false");
    }
    return p;
  }

  private static void putIf(Map<String, String> p, String key, String value) {
    if (value != null) {
      p.put(key, value);
    }
  }

  private CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  /** Finds and loads config.json for embedded mode. */
  static final class ConfigLocator {
    private ConfigLocator() {
    }

    /**
     * The configuration with the command line's overrides, serving only the model the run uses (so
     * it loads one model, not every one the server would). A relative {@code models.dir} of the
     * file is taken relative to the file, so the tool finds the models from any working folder.
     */
    static AppConfig load(Path explicit, List<String> overrides, Map<String, String> env, String model) {
      Path file = explicit != null ? explicit : locate();
      AppConfig loaded = AppConfig.load(file, env, overrides.toArray(String[]::new));
      JsonObject json = loaded.json();
      JsonObject models = json.getJsonObject("models");
      Path dir = Path.of(models.getString("dir"));
      if (!dir.isAbsolute() && !overridden("models.dir", overrides, env)) {
        Path base = file.toAbsolutePath().getParent();
        models.put("dir", base.resolve(dir).normalize().toString());
      }
      String chosen = model != null ? model : models.getString("default");
      models.put("default", chosen);
      if (!overridden("models.serve", overrides, env)) {
        models.put("serve", new JsonArray().add(chosen));
      }
      return AppConfig.of(json);
    }

    private static boolean overridden(String key, List<String> overrides, Map<String, String> env) {
      return env.containsKey(AppConfig.envName(key)) || overrides.stream().anyMatch(a -> a.startsWith("--" + key + "="));
    }

    /**
     * {@code -Dunimatte.config}, else {@code ./config.json}, else the installation's: beside the jar
     * ({@code /app/unimatte.jar}) or one folder up ({@code target/unimatte.jar}, {@code target/classes}).
     */
    static Path locate() {
      String property = System.getProperty("unimatte.config");
      if (property != null) {
        return Path.of(property);
      }
      Path here = Path.of(AppConfig.DEFAULT_FILE);
      if (Files.isRegularFile(here)) {
        return here;
      }
      try {
        Path code = Path.of(CutCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        for (Path dir = code.getParent(); dir != null && dir.getNameCount() >= code.getNameCount() - 2;
             dir = dir.getParent()) {
          Path candidate = dir.resolve(AppConfig.DEFAULT_FILE);
          if (Files.isRegularFile(candidate)) {
            return candidate;
          }
        }
      } catch (Exception e) {
        // no code location (a custom class loader): only the working folder counts
      }
      throw new IllegalArgumentException("no " + AppConfig.DEFAULT_FILE + " in this folder nor beside the "
          + "installation; pass --config FILE");
    }
  }
}
