using EventStream.Broker.Health;
using EventStream.Broker.Services;
using EventStream.Broker.Storage;
using EventStream.Grpc.Server;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseGrpcEndpoints();

// The database first: the host stops services in reverse order, so it outlives its users.
builder.Services.AddEventStreamDatabase(builder.Configuration);
builder.Services.AddGrpcServer(options => builder.Configuration.GetSection("EventStream:Grpc").Bind(options));
builder.Services.AddGrpcService<ContractServices>();
builder.Services.AddOptions<HealthOptions>().Bind(builder.Configuration.GetSection("EventStream:Health"));
builder.Services.AddHostedService<DatabaseHealthMonitor>();

var app = builder.Build();
app.MapGrpcServer();
app.Run();
