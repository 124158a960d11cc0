using System.Collections;
using System.Reflection;
using EventStream.Broker.Security;
using EventStream.Broker.Services;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using SecurityClient = EventStream.Protocol.V1.Security.SecurityClient;

namespace EventStream.Broker.Tests.Security;

/// <summary>
/// Table-driven over the method descriptors of every EventStream service: each method refuses calls
/// without credentials, with a wrong or revoked key, and answers a valid key without the right as its
/// access rule says (PERMISSION_DENIED, or filtered to nothing). A new RPC joins the table by itself.
/// </summary>
[Collection(SecureBrokerCollection.Name)]
public sealed class EveryMethodTests(SecureBrokerFixture fixture)
{
    private static readonly Dictionary<string, Type> Implementations = new()
    {
        [Admin.Descriptor.FullName] = typeof(AdminService),
        [Producer.Descriptor.FullName] = typeof(ProducerService),
        [Consumer.Descriptor.FullName] = typeof(ConsumerService),
        [Protocol.V1.Security.Descriptor.FullName] = typeof(SecurityService),
    };

    public static IEnumerable<object[]> Methods() =>
        Implementations.Keys.SelectMany(service => Descriptor(service).Methods.Select(m => new object[] { m.FullName }));

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_method_declares_an_access_rule_whose_fields_exist(string method)
    {
        var descriptor = Find(method);
        var rules = RulesOf(descriptor);
        Assert.NotEmpty(rules);
        foreach (var rule in rules.OfType<RequiresAttribute>().Where(r => r.Field is not null))
        {
            Assert.NotEmpty(RequestFields.Resolve(descriptor.InputType, rule.Field!));
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Without_credentials_every_method_is_unauthenticated(string method)
    {
        var (code, _) = await CallAsync(Find(method), new CallOptions());
        Assert.Equal(StatusCode.Unauthenticated, code);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Unknown_malformed_or_wrong_keys_are_unauthenticated_on_every_method(string method)
    {
        var key = await fixture.CreateKeyAsync(SecureBrokerFixture.Unique("wrong"));
        var wrongSecret = key[..^1] + (key[^1] == 'A' ? 'B' : 'A');
        foreach (var presented in new[] { wrongSecret, "esk_0123456789abcdef_unknown", "not-a-key", "a.b.c" })
        {
            var (code, _) = await CallAsync(Find(method), Testing.SecureBroker.Bearer(presented));
            Assert.True(code == StatusCode.Unauthenticated, $"{presented[..Math.Min(8, presented.Length)]}...: {code}");
        }
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Revoked_key_is_unauthenticated_on_every_method(string method)
    {
        var principal = SecureBrokerFixture.Unique("revoked");
        var security = new SecurityClient(fixture.Admin);
        var created = await security.CreateApiKeyAsync(new CreateApiKeyRequest { Principal = principal });
        var options = Testing.SecureBroker.Bearer(created.Secret);
        Assert.Equal(principal, (await new SecurityClient(fixture.Broker.Process.Channel).WhoAmIAsync(new WhoAmIRequest(), options)).Principal);

        await security.RevokeApiKeyAsync(new RevokeApiKeyRequest { KeyId = created.Key.KeyId });

        var (code, _) = await CallAsync(Find(method), options);
        Assert.Equal(StatusCode.Unauthenticated, code);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Valid_key_without_the_right_is_denied_or_sees_nothing(string method)
    {
        var descriptor = Find(method);
        var key = await fixture.CreateKeyAsync(SecureBrokerFixture.Unique("nobody"));
        var (code, response) = await CallAsync(descriptor, Testing.SecureBroker.Bearer(key));
        var rules = RulesOf(descriptor);
        if (rules.Any(r => r is RequiresAttribute))
        {
            Assert.Equal(StatusCode.PermissionDenied, code);
        }
        else if (rules.Any(r => r is AuthenticatedOnlyAttribute))
        {
            Assert.Equal(StatusCode.OK, code);
        }
        else
        {
            // Checked in the handler: a refused batch in the stream, or a list filtered to nothing.
            Assert.Equal(StatusCode.OK, code);
            switch (response)
            {
                case ProduceStreamResponse answer:
                    Assert.Equal((int)StatusCode.PermissionDenied, answer.Error?.Code);
                    break;
                case ListTopicsResponse topics:
                    Assert.Empty(topics.Topics);
                    break;
                case ListGroupsResponse groups:
                    Assert.Empty(groups.Groups);
                    break;
                default:
                    Assert.Fail($"{method} is checked in its handler; add how a refusal shows to this test.");
                    break;
            }
        }
    }

    private static ServiceDescriptor Descriptor(string service) => service switch
    {
        _ when service == Admin.Descriptor.FullName => Admin.Descriptor,
        _ when service == Producer.Descriptor.FullName => Producer.Descriptor,
        _ when service == Consumer.Descriptor.FullName => Consumer.Descriptor,
        _ => Protocol.V1.Security.Descriptor,
    };

    private static MethodDescriptor Find(string fullName) =>
        Implementations.Keys.SelectMany(s => Descriptor(s).Methods).Single(m => m.FullName == fullName);

    private static AccessRuleAttribute[] RulesOf(MethodDescriptor method) =>
        Implementations[method.Service.FullName].GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance)?
            .GetCustomAttributes<AccessRuleAttribute>().ToArray() ?? [];

    /// <summary>Calls with a request naming unique resources; for streams, one message and the first answer.</summary>
    private async Task<(StatusCode Code, IMessage? Response)> CallAsync(MethodDescriptor descriptor, CallOptions options)
    {
        var invoker = fixture.Broker.Process.Channel.CreateCallInvoker();
        var method = RawCalls.MethodOf(descriptor);
        var request = Fill(descriptor.InputType, SecureBrokerFixture.Unique("res"), depth: 0);
        options = options.WithDeadline(DateTime.UtcNow.AddSeconds(30));
        try
        {
            switch (method.Type)
            {
                case MethodType.Unary:
                    return (StatusCode.OK, await invoker.AsyncUnaryCall(method, null, options, request));
                case MethodType.ServerStreaming:
                {
                    using var call = invoker.AsyncServerStreamingCall(method, null, options, request);
                    return (StatusCode.OK, await call.ResponseStream.MoveNext() ? call.ResponseStream.Current : null);
                }
                case MethodType.ClientStreaming:
                {
                    using var call = invoker.AsyncClientStreamingCall(method, null, options);
                    await SendAsync(call.RequestStream, request, complete: true);
                    return (StatusCode.OK, await call.ResponseAsync);
                }
                default:
                {
                    using var call = invoker.AsyncDuplexStreamingCall(method, null, options);
                    await SendAsync(call.RequestStream, request, complete: false);
                    var first = await call.ResponseStream.MoveNext() ? call.ResponseStream.Current : null;
                    return (StatusCode.OK, first);
                }
            }
        }
        catch (RpcException e)
        {
            return (e.StatusCode, null);
        }
    }

    /// <summary>
    /// Sends the request; a refusal may end the call before the request is written, and then the
    /// write fails with whatever the transport saw (often CANCELLED): the answer has the status.
    /// </summary>
    private static async Task SendAsync(IClientStreamWriter<IMessage> requests, IMessage request, bool complete)
    {
        try
        {
            await requests.WriteAsync(request);
            if (complete)
            {
                await requests.CompleteAsync();
            }
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
        }
    }

    /// <summary>A request with every string (of the first case of each oneof) set to <paramref name="name"/>, nested messages filled too.</summary>
    private static IMessage Fill(MessageDescriptor type, string name, int depth)
    {
        var message = type.Parser.ParseFrom(ByteString.Empty);
        foreach (var field in type.Fields.InFieldNumberOrder())
        {
            if (field.RealContainingOneof is { } oneof && oneof.Fields[0] != field)
            {
                continue;
            }
            if (field.FieldType == FieldType.String)
            {
                if (field.IsRepeated)
                {
                    ((IList)field.Accessor.GetValue(message)).Add(name);
                }
                else
                {
                    field.Accessor.SetValue(message, name);
                }
            }
            else if (field.FieldType == FieldType.Message && !field.IsRepeated && depth < 2 && field.MessageType.File.Package == "eventstream.v1")
            {
                field.Accessor.SetValue(message, Fill(field.MessageType, name, depth + 1));
            }
        }
        return message;
    }
}
