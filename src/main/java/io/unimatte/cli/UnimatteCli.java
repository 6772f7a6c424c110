package io.unimatte.cli;

import io.unimatte.Main;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Set;

/**
 * The program's entry point ({@code java -jar unimatte.jar}): {@code cut} and {@code help} run the
 * command-line tool; anything else, and no argument at all, starts the server as before
 * ({@code --section.key=value} overrides go to {@link Main}).
 */
@Command(name = "unimatte", mixinStandardHelpOptions = false, usageHelpAutoWidth = true,
    subcommands = {CutCommand.class, CommandLine.HelpCommand.class},
    description = {"Unimatte: cuts the subject out of photos.",
        "Without a command it starts the server (options: --section.key=value overrides of config.json)."})
public final class UnimatteCli {
  /** First arguments that belong to the tool rather than to the server. */
  private static final Set<String> TOOL_ARGUMENTS = Set.of("cut", "help", "-h", "--help");

  @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "this help")
  boolean help;

  private UnimatteCli() {
  }

  public static void main(String[] args) {
    if (args.length == 0 || !TOOL_ARGUMENTS.contains(args[0])) {
      Main.main(args);
      return;
    }
    CommandLine cli = new CommandLine(new UnimatteCli());
    // a mistyped option gets one line and a pointer to the help, not the whole help
    cli.setParameterExceptionHandler((e, a) -> {
      CommandLine cmd = e.getCommandLine();
      cmd.getErr().println("unimatte: " + e.getMessage());
      cmd.getErr().println("Try 'unimatte help " + cmd.getCommandName() + "'.");
      return cmd.getCommandSpec().exitCodeOnInvalidInput();
    });
    System.exit(cli.execute(args));
  }
}
