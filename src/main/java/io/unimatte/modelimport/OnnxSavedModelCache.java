package io.unimatte.modelimport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * Users' ONNX files as SavedModels: each file is converted once per content into a folder beside it
 * ({@code <file>.savedmodel/}, stamped with the file's SHA-256) and converted again when the file
 * changes. The SavedModel always takes and gives NHWC, whatever layout the ONNX graph uses.
 */
public final class OnnxSavedModelCache {
  private static final Logger LOG = Logger.getLogger(OnnxSavedModelCache.class.getName());
  /** Suffix of the folder an ONNX file is converted into. */
  public static final String SUFFIX = ".savedmodel";
  private static final String STAMP = "source.sha256";

  private OnnxSavedModelCache() {
  }

  /**
   * The SavedModel folder for the model's ONNX file, converting it first when needed.
   * Failures are {@link IOException}s whose message names the model and the problem.
   */
  public static Path ensureConverted(ModelDescriptor d) throws IOException {
    Path file = d.path();
    if (!Files.isRegularFile(file)) {
      throw problem(d, "ONNX file " + file + " is missing");
    }
    Path dir = file.resolveSibling(file.getFileName() + SUFFIX);
    String sha = NpmPackageFetcher.sha256(file);
    Path stamp = dir.resolve(STAMP);
    if (Files.isRegularFile(stamp) && Files.readString(stamp).trim().equals(sha)) {
      return dir;
    }
    long t = System.nanoTime();
    ModelImporter.deleteTree(dir);
    try {
      OnnxGraphConverter.convert(OnnxModelReader.read(file), d.output().key(), d.input().size(), dir);
    } catch (UnsupportedOpException e) {
      ModelImporter.deleteTree(dir);
      throw problem(d, e.getMessage());
    } catch (IOException | RuntimeException e) {
      ModelImporter.deleteTree(dir);
      throw problem(d, file + " cannot be converted: " + firstLine(e));
    }
    Files.writeString(stamp, sha + "\n");
    LOG.info("event=onnx_converted model=" + d.name() + " file=" + file + " ms="
        + (System.nanoTime() - t) / 1_000_000);
    return dir;
  }

  private static IOException problem(ModelDescriptor d, String what) {
    return new IOException("model '" + d.name() + "': " + what);
  }

  private static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
