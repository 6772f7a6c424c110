package io.unimatte.modelimport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code java … io.unimatte.modelimport.ImportCli [--models-dir DIR] [isnet] [rvm]}: imports the
 * named models (default: isnet) where they are missing and prints their folders.
 */
public final class ImportCli {
  private static final String USAGE = "usage: ImportCli [--models-dir DIR] [isnet] [rvm]";

  private ImportCli() {
  }

  public static void main(String[] args) {
    Path dir = Path.of("models");
    List<String> names = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--models-dir") && i + 1 < args.length) {
        dir = Path.of(args[++i]);
      } else if (args[i].equals("isnet") || args[i].equals("rvm")) {
        names.add(args[i]);
      } else {
        System.err.println(USAGE);
        System.exit(2);
      }
    }
    if (names.isEmpty()) {
      names.add("isnet");
    }
    try {
      for (String name : names) {
        System.out.println(name.equals("rvm") ? ModelImporter.ensureRvm(dir) : ModelImporter.ensureIsnet(dir));
      }
    } catch (Exception e) {
      System.err.println("import failed: " + e.getMessage());
      System.exit(1);
    }
  }
}
