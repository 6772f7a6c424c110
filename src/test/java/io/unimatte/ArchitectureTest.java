package io.unimatte;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package map, checked on the sources: which top-level package may use which (sub-packages count
 * as their top-level package), no cycle among them, and a batching core free of Vert.x. A reference
 * is any {@code io.unimatte.<pkg>.} in a source file (imports, fully qualified names, Javadoc links).
 */
class ArchitectureTest {
  private static final Path SOURCES = Path.of("src/main/java/io/unimatte");
  private static final Pattern REF = Pattern.compile("io\\.unimatte\\.([a-z]+)\\.");
  /** The bootstrap classes directly in {@code io.unimatte}. */
  private static final String ROOT = "(root)";

  /** What each package may use; README "Layout" says the same in words. {@code error} and {@code config} are for all. */
  private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("error", Set.of()),
      Map.entry("config", Set.of()),
      Map.entry("batching", Set.of()),
      Map.entry("imaging", Set.of("config", "error")),
      Map.entry("cache", Set.of("config", "error")),
      Map.entry("modelimport", Set.of("config", "error")),
      Map.entry("inference", Set.of("batching", "modelimport", "config", "error")),
      Map.entry("cluster", Set.of("inference", "batching", "modelimport", "config", "error")),
      Map.entry("service", Set.of("inference", "cluster", "cache", "imaging", "batching", "modelimport", "config",
          "error")),
      Map.entry("jobs", Set.of("service", "inference", "imaging", "batching", "modelimport", "config", "error")),
      Map.entry("api", Set.of("jobs", "service", "inference", "cluster", "cache", "imaging", "batching",
          "modelimport", "config", "error")),
      Map.entry(ROOT, Set.of("error", "api", "jobs", "service", "inference", "cluster", "cache", "imaging", "batching",
          "modelimport", "config")),
      // the command-line tool starts the pipeline through the root's bootstrap classes; nothing uses it
      Map.entry("cli", Set.of(ROOT, "service", "inference", "imaging", "batching", "modelimport", "config",
          "error")));

  @Test
  void everyPackageUsesOnlyWhatTheMapAllows() throws IOException {
    Map<String, Set<String>> used = dependencies();
    Map<String, Set<String>> forbidden = new TreeMap<>();
    used.forEach((pkg, deps) -> {
      assertTrue(ALLOWED.containsKey(pkg), "package io.unimatte." + pkg + " is not on the map: add it to ALLOWED");
      for (String d : deps) {
        if (!ALLOWED.get(pkg).contains(d)) {
          forbidden.computeIfAbsent(pkg, k -> new TreeSet<>()).add(d);
        }
      }
    });
    assertEquals(Map.of(), forbidden, "package -> packages it uses but may not");
  }

  @Test
  void noPackageCycle() throws IOException {
    Map<String, Set<String>> used = dependencies();
    List<String> cycle = findCycle(used);
    assertEquals(List.of(), cycle, "a package cycle");
    // the map itself must be acyclic, or the check above would allow one
    assertEquals(List.of(), findCycle(ALLOWED), "a cycle in ALLOWED");
  }

  @Test
  void batchingCoreIsFreeOfTheWebLayer() throws IOException {
    List<String> offenders = new ArrayList<>();
    try (Stream<Path> files = Files.walk(SOURCES.resolve("batching"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        if (Files.readString(f).contains("io.vertx.")) {
          offenders.add(f.toString());
        }
      }
    }
    assertEquals(List.of(), offenders, "batching files that use Vert.x");
  }

  @Test
  void theCheckSeesAForbiddenEdge() {
    Map<String, Set<String>> withCycle = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"));
    assertEquals(List.of("a", "b", "c", "a"), findCycle(withCycle));
  }

  /** Top-level package → the other top-level packages its sources name. */
  private static Map<String, Set<String>> dependencies() throws IOException {
    Map<String, Set<String>> deps = new TreeMap<>();
    try (Stream<Path> files = Files.walk(SOURCES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Path rel = SOURCES.relativize(f);
        String pkg = rel.getNameCount() == 1 ? ROOT : rel.getName(0).toString();
        Set<String> set = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
        Matcher m = REF.matcher(Files.readString(f));
        while (m.find()) {
          if (!m.group(1).equals(pkg)) {
            set.add(m.group(1));
          }
        }
      }
    }
    assertTrue(deps.size() > 5, "sources not found under " + SOURCES.toAbsolutePath());
    return deps;
  }

  /** One cycle as a path that ends where it starts, or an empty list. */
  private static List<String> findCycle(Map<String, Set<String>> graph) {
    Map<String, Integer> state = new HashMap<>();
    for (String start : new TreeSet<>(graph.keySet())) {
      List<String> path = new ArrayList<>();
      if (dfs(start, graph, state, path, new HashSet<>())) {
        return path;
      }
    }
    return List.of();
  }

  private static boolean dfs(String node, Map<String, Set<String>> graph, Map<String, Integer> state,
                             List<String> path, Set<String> onPath) {
    if (onPath.contains(node)) {
      path.subList(0, path.indexOf(node)).clear();
      path.add(node);
      return true;
    }
    if (state.getOrDefault(node, 0) == 2) {
      return false;
    }
    onPath.add(node);
    path.add(node);
    for (String next : new TreeSet<>(graph.getOrDefault(node, Set.of()))) {
      if (dfs(next, graph, state, path, onPath)) {
        return true;
      }
    }
    path.remove(path.size() - 1);
    onPath.remove(node);
    state.put(node, 2);
    return false;
  }
}
