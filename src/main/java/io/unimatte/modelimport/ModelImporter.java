package io.unimatte.modelimport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Comparator;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Fetches published weights and imports them as {@code models/<name>/} (SavedModel + model.json).
 *
 * <p>ISNet comes from the npm package {@code @imgly/background-removal-data}: its
 * {@code dist/resources.json} lists the model {@code /models/medium} as 4 MiB chunk files named
 * by their SHA-256; concatenated in order they form the ONNX file, whose SHA-256 is checked
 * before conversion. The import writes into a temporary folder and renames it into place, so a
 * crash never leaves a half-imported model that later starts would trust.
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

  private ModelImporter() {
  }

  /** Imports ISNet into {@code modelsDir/isnet/} unless it is already there; returns that folder. */
  public static Path ensureIsnet(Path modelsDir) throws IOException {
    Path target = modelsDir.resolve("isnet");
    if (Files.isRegularFile(target.resolve("model.json")) && Files.isRegularFile(target.resolve("saved_model.pb"))) {
      return target;
    }
    long t0 = System.nanoTime();
    Path onnx = isnetOnnx(modelsDir);
    Path tmp = Files.createTempDirectory(modelsDir, "isnet.importing");
    try {
      Path saved = tmp.resolve("savedmodel");
      OnnxModel model = OnnxModelReader.read(onnx);
      OnnxGraphConverter.convert(model, ISNET_OUTPUT, ISNET_SIZE, saved);
      writeDescriptor(saved);
      deleteTree(target);
      Files.move(saved, target, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      deleteTree(tmp);
    }
    LOG.info("event=model_imported model=isnet dir=" + target + " ms=" + (System.nanoTime() - t0) / 1_000_000);
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

  private static void writeDescriptor(Path dir) throws IOException {
    ObjectNode j = JSON.createObjectNode();
    j.put("name", "isnet");
    j.put("purpose", "universal matting: people, animals, products, objects");
    j.put("format", "savedmodel");
    j.put("signature", OnnxGraphConverter.SIGNATURE);
    j.putArray("tags").add("serve");
    ObjectNode in = j.putObject("input");
    in.put("key", OnnxGraphConverter.INPUT_KEY);
    in.put("tensor", OnnxGraphConverter.INPUT_KEY + ":0");
    in.put("layout", "NHWC");
    in.put("size", ISNET_SIZE);
    in.put("colorOrder", "RGB");
    fill(in.putArray("mean"), ISNET_MEAN);
    fill(in.putArray("std"), ISNET_STD);
    in.putArray("valueRange").add(0).add(255);
    ObjectNode out = j.putObject("output");
    out.put("key", OnnxGraphConverter.OUTPUT_KEY);
    out.put("tensor", OnnxGraphConverter.OUTPUT_KEY + ":0");
    out.putArray("range").add(0).add(1);
    ObjectNode src = j.putObject("source");
    src.put("package", ISNET_PACKAGE);
    src.put("version", ISNET_VERSION);
    src.put("resource", ISNET_RESOURCE);
    src.put("file", ISNET_FILE);
    src.put("bytes", ISNET_BYTES);
    src.put("sha256", ISNET_SHA256);
    ObjectNode lic = j.putObject("license");
    lic.put("weights", "MIT (ISNet, DIS project, Qin et al.)");
    lic.put("package", "AGPL-3.0 (" + ISNET_PACKAGE + ")");
    j.put("importedBy", "unimatte modelimport");
    j.put("importedAt", Instant.now().toString());
    JSON.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("model.json").toFile(), j);
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
