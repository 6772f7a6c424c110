import java.util.Arrays;
import org.apache.maven.cli.MavenCli;
import org.fusesource.jansi.AnsiConsole;

/**
 * Runs Maven as if on another machine: {@code java -cp "$MAVEN_HOME/boot/*:$MAVEN_HOME/lib/*"
 * .ci/MavenAs.java OS_NAME OS_ARCH MAVEN_ARGS...}. Maven's {@code <os>} profile activation reads
 * the JVM's {@code os.name}/{@code os.arch} when it first looks, so {@code -Dos.name} on the mvn
 * command line comes too late; here they are set before Maven starts. The console is set up first
 * with the real values: jansi's Windows console calls exist only on Windows.
 */
public final class MavenAs {
  private MavenAs() {
  }

  public static void main(String[] args) {
    if (args.length < 3) {
      System.err.println("usage: MavenAs OS_NAME OS_ARCH MAVEN_ARGS...");
      System.exit(2);
    }
    AnsiConsole.out();
    System.setProperty("os.name", args[0]);
    System.setProperty("os.arch", args[1]);
    String dir = System.getProperty("user.dir");
    System.setProperty("maven.multiModuleProjectDirectory", dir);
    String[] mavenArgs = Arrays.copyOfRange(args, 2, args.length);
    System.exit(new MavenCli().doMain(mavenArgs, dir, System.out, System.err));
  }
}
