// The `eventstream` command line (a dotnet tool): see CliApp for the commands and exit codes.
return await EventStream.Cli.CliApp.RunAsync(args);
