using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace EventStream.Broker.Security;

/// <summary>
/// Applies the access rules declared on each handler (<see cref="AccessRuleAttribute"/>): the
/// <see cref="RequiresAttribute"/> rights before a unary handler runs, and on every message of a
/// request stream as the handler reads it. A method with no rule is refused. Registered only when
/// authentication is on.
/// </summary>
internal sealed class AccessInterceptor(CallAccess access, ILogger<AccessInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(RulesOf(context), request, context);
        return await continuation(request, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        await CheckAsync(RulesOf(context), request, context);
        await continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new CheckedReader<TRequest>(requestStream, RulesOf(context), context, this), context);

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new CheckedReader<TRequest>(requestStream, RulesOf(context), context, this), responseStream, context);

    /// <summary>The rights the method's handler requires; refuses a method that declares no rule at all.</summary>
    private RequiresAttribute[] RulesOf(ServerCallContext context)
    {
        var metadata = context.GetHttpContext().GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null)
        {
            // Health checks and reflection.
            return [];
        }
        if (metadata?.GetMetadata<AccessRuleAttribute>() is null)
        {
            SecurityLog.NoAccessRule(logger, context.Method);
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"{context.Method} has no access rule; it is refused."));
        }
        return [.. metadata.GetOrderedMetadata<RequiresAttribute>()];
    }

    private async ValueTask CheckAsync(RequiresAttribute[] rules, object? request, ServerCallContext context)
    {
        foreach (var rule in rules)
        {
            if (rule.Field is null)
            {
                await access.DemandAsync(context, rule.Operation, rule.ResourceType, "");
                continue;
            }
            if (request is not IMessage message)
            {
                continue;
            }
            foreach (var name in RequestFields.Read(message, rule.Field))
            {
                await access.DemandAsync(context, rule.Operation, rule.ResourceType, name, rule.AllowsPatterns);
            }
        }
    }

    /// <summary>A request stream whose every message is checked as the handler reads it; a refused one ends the call.</summary>
    private sealed class CheckedReader<T>(IAsyncStreamReader<T> inner, RequiresAttribute[] rules, ServerCallContext context, AccessInterceptor owner)
        : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken))
            {
                return false;
            }
            if (rules.Length > 0)
            {
                await owner.CheckAsync(rules, inner.Current, context);
            }
            return true;
        }
    }
}
