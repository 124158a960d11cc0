using EventStream.Protocol.V1;
using EventStream.Testing;
using Grpc.Core;
using SecurityClient = EventStream.Protocol.V1.Security.SecurityClient;

namespace EventStream.Broker.Tests.Security;

/// <summary>Keys and tokens are never stored or logged in clear, while refusals are audited.</summary>
[Collection(SecureBrokerCollection.Name)]
public sealed class SecretStorageTests(SecureBrokerFixture fixture)
{
    [Fact]
    public async Task Secrets_appear_neither_in_the_database_nor_in_the_log()
    {
        var principal = SecureBrokerFixture.Unique("secretive");
        var created = await new SecurityClient(fixture.Admin).CreateApiKeyAsync(new CreateApiKeyRequest { Principal = principal, Description = "leak check" });
        var key = created.Secret;
        var secretPart = SecretOf(key);
        var token = fixture.Broker.Credentials.Token(principal, expiresIn: TimeSpan.FromMinutes(-5));
        var channel = fixture.Broker.Process.Channel;
        // Good, wrong and expired credentials, and a denied operation: each path that may log.
        await new SecurityClient(channel).WhoAmIAsync(new WhoAmIRequest(), SecureBroker.Bearer(key));
        await Assert.ThrowsAsync<RpcException>(() => new SecurityClient(channel).WhoAmIAsync(new WhoAmIRequest(), SecureBroker.Bearer(key + "x")).ResponseAsync);
        await Assert.ThrowsAsync<RpcException>(() => new SecurityClient(channel).WhoAmIAsync(new WhoAmIRequest(), SecureBroker.Bearer(token)).ResponseAsync);
        await Assert.ThrowsAsync<RpcException>(() => new Admin.AdminClient(channel).DeleteTopicAsync(new DeleteTopicRequest { Name = "anything" }, SecureBroker.Bearer(key)).ResponseAsync);
        await Wait.UntilAsync(() => fixture.Broker.Process.Output.Contains(created.Key.KeyId + " does not belong", StringComparison.Ordinal)
            || fixture.Broker.Process.Output.Contains("wrong secret for key " + created.Key.KeyId, StringComparison.Ordinal), "the wrong key is audited");
        await Wait.UntilAsync(() => fixture.Broker.Process.Output.Contains($"Denied {principal} delete on topic", StringComparison.Ordinal), "the denial is audited");

        var log = fixture.Broker.Process.Output;
        Assert.DoesNotContain(secretPart, log, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[2], log, StringComparison.Ordinal);
        Assert.DoesNotContain(SecretOf(fixture.Broker.AdminKey), log, StringComparison.Ordinal);

        // Every table of the schema, as text.
        await using var tables = fixture.Database.CreateCommand(
            "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables WHERE table_schema = 'eventstream' AND table_type = 'BASE TABLE'");
        var names = new List<string>();
        await using (var reader = await tables.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                names.Add(reader.GetString(0));
            }
        }
        Assert.Contains("eventstream.api_keys", names);
        foreach (var table in names)
        {
            await using var dump = fixture.Database.CreateCommand($"SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM {table} t");
            var text = (string)(await dump.ExecuteScalarAsync())!;
            Assert.DoesNotContain(secretPart, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(secretPart)), text, StringComparison.OrdinalIgnoreCase);
        }
    }

    /// <summary>The random part of a key <c>esk_&lt;16-digit id&gt;_&lt;secret&gt;</c>; base64url may put '_' in it too.</summary>
    private static string SecretOf(string key) => key["esk_0123456789abcdef_".Length..];
}
