package io.unimatte.modelimport;

import java.nio.file.Path;

/** {@code java … io.unimatte.modelimport.ImportCli [--models-dir DIR]}: imports ISNet if missing. */
public final class ImportCli {
  private ImportCli() {
  }

  public static void main(String[] args) {
    Path dir = Path.of("models");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--models-dir") && i + 1 < args.length) {
        dir = Path.of(args[++i]);
      } else {
        System.err.println("usage: ImportCli [--models-dir DIR]");
        System.exit(2);
      }
    }
    try {
      System.out.println(ModelImporter.ensureIsnet(dir));
    } catch (Exception e) {
      System.err.println("import failed: " + e.getMessage());
      System.exit(1);
    }
  }
}
