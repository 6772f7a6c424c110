package io.unimatte.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which files of IN are images, where their outputs go, and what --skip-existing leaves. */
class InputSetTest {

  @Test
  void mirrorsTheTreeAndKeepsCollidingNamesApart(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("in");
    for (String f : List.of("a.jpg", "a.PNG", "b.jpeg", "sub/c.webp", "sub/deep/d.tif", "notes.txt", ".hidden.png",
        ".cache/e.png", "noext")) {
      Files.createDirectories(in.resolve(f).getParent());
      Files.writeString(in.resolve(f), f);
    }
    Path out = in.resolve("out"); // inside IN: never read back as input
    Files.createDirectories(out);
    Files.writeString(out.resolve("old.png"), "an earlier result");
    try (InputSet flat = InputSet.scan(in, out, false, "png", false)) {
      assertEquals(List.of("a.PNG", "a.jpg", "b.jpeg"), flat.todo().stream().map(InputSet.Item::name).toList());
      assertEquals(List.of(out.resolve("a.PNG.png"), out.resolve("a.jpg.png"), out.resolve("b.png")),
          flat.todo().stream().map(InputSet.Item::output).toList(), "a.jpg and a.PNG would both be a.png");
      assertEquals(List.of("noext", "notes.txt"), flat.ignored());
    }
    try (InputSet deep = InputSet.scan(in, out, true, "jpg", false)) {
      assertEquals(List.of("a.PNG", "a.jpg", "b.jpeg", "sub/c.webp", "sub/deep/d.tif"),
          deep.todo().stream().map(InputSet.Item::name).toList(), "hidden files and OUT left out");
      assertEquals(out.resolve("sub/deep/d.jpg"), deep.todo().get(4).output());
    }
  }

  @Test
  void skipsOutputsNewerThanTheirInput(@TempDir Path tmp) throws Exception {
    Path in = tmp.resolve("in");
    Files.createDirectories(in);
    Path out = tmp.resolve("out");
    Files.createDirectories(out);
    for (String n : List.of("fresh", "stale", "missing")) {
      Files.writeString(in.resolve(n + ".jpg"), n);
      Files.setLastModifiedTime(in.resolve(n + ".jpg"), FileTime.fromMillis(1_000_000));
    }
    Files.writeString(out.resolve("fresh.png"), "done");
    Files.setLastModifiedTime(out.resolve("fresh.png"), FileTime.fromMillis(2_000_000));
    Files.writeString(out.resolve("stale.png"), "done before the photo changed");
    Files.setLastModifiedTime(out.resolve("stale.png"), FileTime.fromMillis(500_000));
    try (InputSet set = InputSet.scan(in, out, false, "png", true)) {
      assertEquals(List.of("fresh.jpg"), set.existing().stream().map(InputSet.Item::name).toList());
      assertEquals(List.of("missing.jpg", "stale.jpg"), set.todo().stream().map(InputSet.Item::name).toList());
    }
  }

  @Test
  void aSingleFileGoesToANamedFileOrIntoAFolder(@TempDir Path tmp) throws Exception {
    Path photo = tmp.resolve("cat.jpeg");
    Files.writeString(photo, "pixels");
    try (InputSet named = InputSet.scan(photo, tmp.resolve("cutout.jpg"), false, "jpg", false)) {
      assertEquals(tmp.resolve("cutout.jpg"), named.todo().get(0).output());
    }
    try (InputSet folder = InputSet.scan(photo, tmp.resolve("results"), false, "png", false)) {
      assertEquals(tmp.resolve("results/cat.png"), folder.todo().get(0).output());
      assertEquals("cat.jpeg", folder.todo().get(0).name());
    }
    assertTrue(InputSet.namesFile(photo, tmp.resolve("x.PNG")));
    assertThrows(IllegalArgumentException.class, () -> InputSet.scan(tmp.resolve("nope"), tmp, false, "png", false));
  }

  @Test
  void readsAreCappedWithACode(@TempDir Path tmp) throws Exception {
    Path photo = tmp.resolve("big.png");
    Files.write(photo, new byte[1000]);
    try (InputSet set = InputSet.scan(photo, tmp.resolve("o"), false, "png", false)) {
      assertEquals(1000, set.todo().get(0).read(1000).length);
      var e = assertThrows(io.unimatte.error.CodedException.class, () -> set.todo().get(0).read(999));
      assertEquals("image_too_large", e.code());
    }
  }
}
