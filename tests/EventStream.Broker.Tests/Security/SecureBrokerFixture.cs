using EventStream.Protocol.V1;
using EventStream.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Npgsql;
using SecurityClient = EventStream.Protocol.V1.Security.SecurityClient;

namespace EventStream.Broker.Tests.Security;

/// <summary>One broker with API keys and JWTs on, shared by the tests of its collection; each test makes its own principals and names.</summary>
public sealed class SecureBrokerFixture : IAsyncLifetime
{
    public SecureBroker Broker { get; private set; } = null!;

    public NpgsqlDataSource Database { get; private set; } = null!;

    /// <summary>A channel sending the bootstrapped admin's key.</summary>
    public GrpcChannel Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Broker = await SecureBroker.StartAsync();
        Database = NpgsqlDataSource.Create(EmbeddedDatabase.ConnectionString(Broker.DataDirectory));
        Admin = Broker.ChannelWith(Broker.AdminKey);
    }

    /// <summary>A new key for <paramref name="principal"/>, created by the admin.</summary>
    public async Task<string> CreateKeyAsync(string principal) =>
        (await new SecurityClient(Admin).CreateApiKeyAsync(new CreateApiKeyRequest { Principal = principal })).Secret;

    /// <summary>Adds an allow (or deny) entry for <paramref name="principal"/>.</summary>
    public async Task<Acl> GrantAsync(string principal, AclOperation operation, AclResourceType type, string name,
        AclPatternType pattern = AclPatternType.Literal, AclPermission permission = AclPermission.Allow) =>
        await new SecurityClient(Admin).AddAclAsync(new AddAclRequest
        {
            Acl = new Acl { Principal = principal, Operation = operation, ResourceType = type, ResourceName = name, PatternType = pattern, Permission = permission },
        });

    public async Task CreateTopicAsync(string name) =>
        await new Admin.AdminClient(Admin).CreateTopicAsync(new CreateTopicRequest { Name = name });

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        if (Database is not null)
        {
            await Database.DisposeAsync();
        }
        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SecureBrokerCollection : ICollectionFixture<SecureBrokerFixture>
{
    public const string Name = "Secure broker process";
}

/// <summary>Unary and streaming calls by method descriptor, with messages of the descriptor's types, for table-driven tests.</summary>
internal static class RawCalls
{
    public static Method<Google.Protobuf.IMessage, Google.Protobuf.IMessage> MethodOf(Google.Protobuf.Reflection.MethodDescriptor method)
    {
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            _ => MethodType.DuplexStreaming,
        };
        return new Method<Google.Protobuf.IMessage, Google.Protobuf.IMessage>(type, method.Service.FullName, method.Name,
            Marshallers.Create<Google.Protobuf.IMessage>(m => Google.Protobuf.MessageExtensions.ToByteArray(m), method.InputType.Parser.ParseFrom),
            Marshallers.Create<Google.Protobuf.IMessage>(m => Google.Protobuf.MessageExtensions.ToByteArray(m), method.OutputType.Parser.ParseFrom));
    }
}
