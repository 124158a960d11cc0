using EventStream.Broker.Cluster;
using EventStream.Broker.Citus;
using EventStream.Broker.Consuming;
using EventStream.Broker.Embedded;
using EventStream.Broker.Health;
using EventStream.Broker.Maintenance;
using EventStream.Broker.Producing;
using EventStream.Broker.Reading;
using EventStream.Broker.Security;
using EventStream.Broker.Services;
using EventStream.Broker.Storage;
using EventStream.Broker.Telemetry;
using EventStream.Broker.Topics;
using EventStream.Broker.Transport;
using Grpc.HealthCheck;
using Microsoft.Extensions.Options;

// `EventStream.Broker health [address]` probes a running broker instead of starting one.
if (HealthCommand.IsInvoked(args))
{
    Environment.ExitCode = await HealthCommand.RunAsync(args, Console.Out);
    return;
}

// `EventStream.Broker create-api-key <principal> [--admin]` bootstraps the first admin's key.
if (CreateApiKeyCommand.IsInvoked(args))
{
    Environment.ExitCode = await CreateApiKeyCommand.RunAsync(args, Console.Out, Console.Error);
    return;
}

var builder = WebApplication.CreateBuilder(args);
// Secure by default: no authentication means loopback only, unless anonymous access is allowed explicitly.
if (ListenAddressGuard.Refusal(builder.Configuration, SecurityServiceCollectionExtensions.SettingsOf(builder.Configuration)) is { } refusal)
{
    Console.Error.WriteLine(refusal);
    Environment.ExitCode = 1;
    return;
}
builder.WebHost.UseGrpcEndpoints();
builder.WebHost.UseEventStreamScrapeEndpoint(builder.Configuration);

// The database first: the host stops services in reverse order, so it outlives its users.
builder.Services.AddEventStreamDatabase(builder.Configuration);
builder.Services.AddEventStreamMaintenance(builder.Configuration);
builder.Services.AddEventStreamGrpc(builder.Configuration);
builder.AddEventStreamSecurity();
builder.Services.AddSingleton<ClusterSettings>();
builder.Services.AddOptions<TopicOptions>().Bind(builder.Configuration.GetSection(TopicOptions.SectionName));
builder.Services.AddSingleton<TopicRegistry>();
builder.Services.AddOptions<ProduceOptions>().Bind(builder.Configuration.GetSection(ProduceOptions.SectionName));
// Group-less reads: each produce transaction announces its ranges to every broker's followers (broker/Reading).
builder.Services.AddSingleton<CommitListener>();
builder.Services.AddSingleton<ReaderService>();
builder.Services.AddSingleton<EventWriter>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<EventWriter>());
builder.Services.AddOptions<ConsumeOptions>().Bind(builder.Configuration.GetSection(ConsumeOptions.SectionName));
builder.Services.AddOptions<ClusterOptions>().Bind(builder.Configuration.GetSection(ClusterOptions.SectionName)).ValidateOnStart();
builder.Services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>();
// On the embedded PostgreSQL the broker's id is kept in its data directory, which one process holds.
builder.Services.AddSingleton(sp => new BrokerIdentity(
    sp.GetRequiredService<IOptions<ClusterOptions>>(),
    sp.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>(),
    sp.GetRequiredService<DatabaseEndpoint>().IsEmbedded
        ? DataDirectoryLayout.BrokerIdFileOf(sp.GetRequiredService<IOptions<EmbeddedPostgresOptions>>().Value.DataDirectory)
        : null));
builder.Services.AddSingleton<CoordinatorLeases>();
builder.Services.AddSingleton<ClusterTopology>();
builder.Services.AddHostedService<GroupSlotKeeper>();
builder.Services.AddSingleton<GroupStore>();
builder.Services.AddSingleton<ConsumerGroups>();
builder.Services.AddSingleton<GroupAdmin>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ConsumerGroups>());
builder.Services.AddSingleton<AdminService>();
builder.Services.AddSingleton<ProducerService>();
builder.Services.AddSingleton<ConsumerService>();
builder.Services.AddSingleton<SecurityService>();
builder.Services.AddOptions<HealthOptions>().Bind(builder.Configuration.GetSection("EventStream:Health"));
builder.Services.AddSingleton<HealthServiceImpl>(sp =>
    DatabaseHealthMonitor.CreateHealthService(new BrokerHealthService(sp.GetRequiredService<IHostApplicationLifetime>())));
builder.Services.AddSingleton<DatabaseHealthMonitor>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<DatabaseHealthMonitor>());
builder.Services.AddEventStreamTelemetry(builder.Configuration);

var app = builder.Build();
app.UseBinaryHeaderCheck();
app.UseEventStreamSecurity();
app.MapGrpcService<AdminService>();
app.MapGrpcService<ProducerService>();
app.MapGrpcService<ConsumerService>();
app.MapGrpcService<SecurityService>();
app.MapGrpcService<ReaderService>();
// Health checks and reflection (the schema is public) need no credentials.
app.MapGrpcService<HealthServiceImpl>().AllowAnonymous();
app.MapGrpcReflectionService().AllowAnonymous();
app.MapEventStreamTelemetry();
app.Run();
