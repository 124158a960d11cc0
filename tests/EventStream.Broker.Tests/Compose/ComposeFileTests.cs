using System.Text.RegularExpressions;
using System.Xml.Linq;
using EventStream.Testing;
using Npgsql;

namespace EventStream.Broker.Tests.Compose;

/// <summary>
/// compose/: the Citus cluster and brokers it describes, checked without a container engine.
/// The structure is read with a YAML parser; when a Compose command line is installed, it
/// validates the files as well.
/// </summary>
public sealed class ComposeFileTests
{
    private const string CitusNodeImage = @"^citusdata/citus:13\.\d+\.\d+-pg15$";

    private static readonly string ComposeDirectory = RepositoryPaths.Combine("compose");

    private readonly ComposeFile _compose = ComposeFile.Load(Path.Combine(ComposeDirectory, "docker-compose.yml"));

    private List<ComposeService> CitusNodes => _compose.Services.Values
        .Where(s => s.Build is { } build && FullPath(build.Context) == Path.Combine(ComposeDirectory, "citus") && s.Command is ["postgres", ..])
        .ToList();

    private List<ComposeService> Brokers => _compose.Services.Values
        .Where(s => s.Build is { } build && FullPath(Path.Combine(build.Context, build.Dockerfile)) == Path.Combine(ComposeDirectory, "Dockerfile"))
        .ToList();

    private ComposeService Coordinator => _compose.Service("coordinator");

    [Fact]
    public void Three_citus_nodes_decode_logically_with_change_data_capture_and_pg_cron()
    {
        Assert.Equal(["coordinator", "worker-1", "worker-2"], CitusNodes.Select(n => n.Name).Order());
        foreach (var node in CitusNodes)
        {
            var settings = node.ServerSettings;
            Assert.Equal("logical", settings["wal_level"]);
            Assert.Equal("on", settings["citus.enable_change_data_capture"]);
            var preloaded = settings["shared_preload_libraries"].Split(',', StringSplitOptions.TrimEntries);
            Assert.Equal("citus", preloaded[0]); // Citus insists on coming first.
            Assert.Contains("pg_cron", preloaded);
            Assert.Equal(node.Environment["POSTGRES_DB"], settings["cron.database_name"]);
            Assert.Equal("eventstream", node.Environment["POSTGRES_DB"]);
            Assert.True(int.Parse(settings["max_replication_slots"], System.Globalization.CultureInfo.InvariantCulture) >= 10);
            Assert.Contains("max_slot_wal_keep_size", settings.Keys);

            // Nodes connect to each other as the same user with the same password.
            Assert.Equal(Coordinator.Environment["POSTGRES_PASSWORD"], node.Environment["POSTGRES_PASSWORD"]);
            Assert.Equal(node.Environment["POSTGRES_PASSWORD"], node.Environment["PGPASSWORD"]);

            var healthCheck = string.Join(' ', node.HealthCheck);
            Assert.Contains("pg_isready", healthCheck, StringComparison.Ordinal);
            Assert.Contains(node.Environment["POSTGRES_DB"], healthCheck, StringComparison.Ordinal);
            Assert.Single(node.Volumes, v => v.EndsWith(":/var/lib/postgresql/data", StringComparison.Ordinal));
        }
        // Each node keeps its own data.
        Assert.Equal(3, CitusNodes.SelectMany(n => n.Volumes).Distinct().Count());
        Assert.All(CitusNodes.SelectMany(n => n.Volumes), v => Assert.Contains(v.Split(':')[0], _compose.Volumes));
    }

    [Fact]
    public void Citus_image_adds_pg_cron_to_a_citus_13_image_for_postgresql_15()
    {
        var dockerfile = DockerfileModel.Load(Path.Combine(ComposeDirectory, "citus", "Dockerfile"));

        Assert.Matches(CitusNodeImage, dockerfile.BaseImage(0));
        var install = string.Join(' ', dockerfile.Where("RUN").Select(r => r.Arguments));
        Assert.Matches(@"apt-get install [^&]*postgresql-(15|\$\{PG_MAJOR\})-cron", install);
        AssertCopySourcesExist(dockerfile, Path.Combine(ComposeDirectory, "citus"));
    }

    [Fact]
    public void Init_service_registers_every_worker_once_all_nodes_are_healthy()
    {
        var init = _compose.Service("citus-init");
        var workers = CitusNodes.Where(n => n != Coordinator).Select(n => n.Name).Order().ToList();

        Assert.Equal(CitusNodes.Select(n => n.Name).Order(), init.DependsOn.Keys.Order());
        Assert.All(init.DependsOn.Values, condition => Assert.Equal("service_healthy", condition));
        Assert.Equal(workers, init.Environment["CITUS_WORKERS"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Order());
        Assert.Equal("coordinator", init.Environment["COORDINATOR"]);
        Assert.Equal(Coordinator.Environment["POSTGRES_USER"], init.Environment["PGUSER"]);
        Assert.Equal(Coordinator.Environment["POSTGRES_PASSWORD"], init.Environment["PGPASSWORD"]);
        Assert.Equal(Coordinator.Environment["POSTGRES_DB"], init.Environment["PGDATABASE"]);
        Assert.Equal("no", ComposeFile.Scalar(init.Map, "restart"));

        // The command is the script the Citus image installs.
        Assert.Equal(Coordinator.Image, init.Image);
        var dockerfile = DockerfileModel.Load(Path.Combine(ComposeDirectory, "citus", "Dockerfile"));
        Assert.Contains(dockerfile.ContextCopies(), c => c.Sources.SequenceEqual(["register-nodes.sh"]) && c.Destination == "/usr/local/bin/" + init.Command.Single());
        var script = Path.Combine(ComposeDirectory, "citus", "register-nodes.sh");
        var text = File.ReadAllText(script);
        Assert.Contains("citus_set_coordinator_host", text, StringComparison.Ordinal);
        Assert.Contains("citus_add_node", text, StringComparison.Ordinal);
        Assert.Equal(0, RunBash(["-n", script]));
    }

    [Fact]
    public void Two_brokers_use_the_coordinator_and_advertise_their_own_address()
    {
        Assert.Equal(["broker-1", "broker-2"], Brokers.Select(b => b.Name).Order());
        var hostPorts = new List<int>();
        foreach (var broker in Brokers)
        {
            var environment = broker.Environment;
            var connection = new NpgsqlConnectionStringBuilder(environment["ConnectionStrings__EventStream"]);
            Assert.Equal(Coordinator.Name, connection.Host);
            Assert.Equal(5432, connection.Port);
            Assert.Equal(Coordinator.Environment["POSTGRES_DB"], connection.Database);
            Assert.Equal(Coordinator.Environment["POSTGRES_USER"], connection.Username);
            Assert.Equal(Coordinator.Environment["POSTGRES_PASSWORD"], connection.Password);

            // Reachable inside the network at the address it advertises, on the port it listens on.
            var listen = new Uri(environment["Urls"]);
            Assert.Equal("0.0.0.0", listen.Host);
            var advertised = new Uri(environment["EventStream__Cluster__AdvertisedAddress"]);
            Assert.Equal("http", advertised.Scheme);
            Assert.Equal(broker.Name, advertised.Host);
            Assert.Equal(listen.Port, advertised.Port);

            var port = Assert.Single(broker.Ports);
            var parts = port.Split(':');
            Assert.Equal(listen.Port, int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture));
            hostPorts.Add(int.Parse(parts[^2], System.Globalization.CultureInfo.InvariantCulture));

            Assert.Equal("service_healthy", broker.DependsOn["coordinator"]);
            Assert.Equal("service_completed_successfully", broker.DependsOn["citus-init"]);
            Assert.Equal(["CMD", "dotnet", "/app/EventStream.Broker.dll", "health", $"http://127.0.0.1:{listen.Port}"], broker.HealthCheck);
        }
        Assert.Equal([7400, 7401], hostPorts.Order());
    }

    [Fact]
    public void Broker_dockerfile_publishes_the_broker_from_files_in_the_repository()
    {
        var dockerfile = DockerfileModel.Load(Path.Combine(ComposeDirectory, "Dockerfile"));
        Assert.Equal(2, dockerfile.StageCount);
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0", dockerfile.BaseImage(0));
        Assert.Equal("mcr.microsoft.com/dotnet/aspnet:10.0", dockerfile.BaseImage(1));
        AssertCopySourcesExist(dockerfile, RepositoryPaths.Root);

        // The project it publishes, and everything that project builds from, is copied in.
        var publish = dockerfile.Where("RUN", 0).Select(r => r.Words).Single(w => w is ["dotnet", "publish", ..]);
        var project = RepositoryPaths.Combine(publish[2]);
        Assert.True(File.Exists(project), $"{project} does not exist.");
        var copied = dockerfile.ContextCopies().SelectMany(c => c.Sources).Select(s => RepositoryPaths.Combine(s.TrimEnd('/'))).ToList();
        string[] sharedFiles = ["Directory.Build.props", "Directory.Packages.props", "global.json"];
        foreach (var input in BuildInputs(project).Concat(sharedFiles.Select(f => RepositoryPaths.Combine(f))))
        {
            Assert.True(copied.Any(c => input == c || input.StartsWith(c + Path.DirectorySeparatorChar, StringComparison.Ordinal)),
                $"{Path.GetRelativePath(RepositoryPaths.Root, input)} is needed to publish the broker but not copied in.");
        }

        var assembly = XDocument.Load(project).Descendants("AssemblyName").Single().Value;
        Assert.Equal(["dotnet", $"/app/{assembly}.dll"], dockerfile.Where("ENTRYPOINT").Single().Words);
        Assert.Contains($"--from=build /app ./", dockerfile.Where("COPY", 1).Single().Arguments, StringComparison.Ordinal);
        Assert.Contains("-o /app", string.Join(' ', publish), StringComparison.Ordinal);

        Assert.Equal("http://0.0.0.0:7400", dockerfile.FinalEnvironment()["Urls"]);
        Assert.Equal("7400", dockerfile.Where("EXPOSE").Single().Arguments);
        Assert.Contains($"/app/{assembly}.dll health", dockerfile.Where("HEALTHCHECK").Single().Arguments.Replace("\", \"", " ", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerignore_keeps_build_outputs_dependencies_and_git_out_of_the_context()
    {
        var patterns = File.ReadAllLines(RepositoryPaths.Combine(".dockerignore"))
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();

        foreach (var folder in new[] { "bin", "obj", "node_modules" })
        {
            Assert.Contains(patterns, p => p is var q && (q == $"**/{folder}" || q == $"**/{folder}/"));
        }
        Assert.Contains(patterns, p => p is ".git" or ".git/");
        // The broker's inputs stay in the context.
        Assert.DoesNotContain(patterns, p => Regex.IsMatch(p, @"^(broker|sdk|sql|proto)(/|$)"));
    }

    [Fact]
    public void Worker_override_adds_a_worker_like_the_others()
    {
        var overrideFile = ComposeFile.Load(Path.Combine(ComposeDirectory, "docker-compose.worker-3.yml"));
        var worker = overrideFile.Service("worker-3");

        var extends = ComposeFile.Map(worker.Map, "extends")!;
        Assert.Equal("docker-compose.yml", ComposeFile.Scalar(extends, "file"));
        Assert.Contains(ComposeFile.Scalar(extends, "service"), CitusNodes.Where(n => n != Coordinator).Select(n => n.Name));
        var volume = Assert.Single(worker.Volumes);
        Assert.EndsWith(":/var/lib/postgresql/data", volume, StringComparison.Ordinal);
        Assert.Contains(volume.Split(':')[0], overrideFile.Volumes);
        Assert.DoesNotContain(volume.Split(':')[0], _compose.Volumes);
    }

    [ComposeCliFact]
    public void Compose_command_line_accepts_the_files()
    {
        (int ExitCode, string Output) result;
        if (ComposeCli.IsVersion1)
        {
            // 1.x rejects the top-level name; check the rest from a copy, paths resolved from compose/.
            using var directory = new TestDirectory();
            var copy = Path.Combine(directory.Path, "docker-compose.yml");
            File.WriteAllText(copy, Regex.Replace(File.ReadAllText(_compose.Path), @"^name:.*$", "", RegexOptions.Multiline));
            result = ComposeCli.Run(["--project-directory", ComposeDirectory, "-f", copy, "config", "--quiet"], RepositoryPaths.Root);
        }
        else
        {
            result = ComposeCli.Run(
                ["-f", "compose/docker-compose.yml", "-f", "compose/docker-compose.worker-3.yml", "config", "--quiet"], RepositoryPaths.Root);
        }
        Assert.True(result.ExitCode == 0, $"{string.Join(' ', ComposeCli.Command!)} config failed:\n{result.Output}");
    }

    private static string FullPath(string relativeToCompose) => Path.GetFullPath(Path.Combine(ComposeDirectory, relativeToCompose));

    private static void AssertCopySourcesExist(DockerfileModel dockerfile, string context)
    {
        var copies = dockerfile.ContextCopies().ToList();
        Assert.NotEmpty(copies);
        foreach (var source in copies.SelectMany(c => c.Sources))
        {
            var path = Path.Combine(context, source);
            Assert.True(File.Exists(path) || Directory.Exists(path), $"{dockerfile.Path} copies {source}, which is not in {context}.");
        }
    }

    /// <summary>
    /// The project folders a project builds from (itself and its project references, transitively)
    /// and the folders outside them its items include (e.g. ../sql/*.sql, ../../proto/**).
    /// </summary>
    private static IEnumerable<string> BuildInputs(string project)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }
            var directory = Path.GetDirectoryName(current)!;
            yield return directory;
            foreach (var item in XDocument.Load(current).Descendants().Where(e => e.Attribute("Include") is not null))
            {
                var include = item.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar);
                if (item.Name.LocalName == "ProjectReference")
                {
                    pending.Push(Path.GetFullPath(Path.Combine(directory, include)));
                }
                else if (include.StartsWith("..", StringComparison.Ordinal))
                {
                    var beforeWildcard = include.Split('*')[0];
                    yield return Path.GetFullPath(Path.Combine(directory, Path.GetDirectoryName(beforeWildcard.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar)!));
                }
            }
        }
    }

    private static int RunBash(IEnumerable<string> arguments)
    {
        var info = new System.Diagnostics.ProcessStartInfo("bash") { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = System.Diagnostics.Process.Start(info)!;
        process.WaitForExit();
        return process.ExitCode;
    }
}
