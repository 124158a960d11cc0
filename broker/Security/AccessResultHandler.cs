using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace EventStream.Broker.Security;

/// <summary>
/// Answers a call the authorization middleware refuses as gRPC does (a trailers-only response with
/// UNAUTHENTICATED or PERMISSION_DENIED and a message), not with a bare HTTP 401, and writes the
/// audit line: the RPC, the peer and why the credentials were refused, never the credentials.
/// </summary>
internal sealed class AccessResultHandler(AuditLog audit) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded || !IsGrpc(context))
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "";
        if (authorizeResult.Challenged)
        {
            // Handlers cache their result per request: this asks no one again.
            var result = await context.AuthenticateAsync();
            if (result.Failure is { } failure)
            {
                var mechanism = CallerIdentity.MechanismOf(context.User) is { Length: > 0 } m ? m : "credentials";
                // Token libraries may put token content in messages: log only the kind of failure for them.
                var reason = failure is Microsoft.IdentityModel.Tokens.SecurityTokenException ? failure.GetType().Name : failure.Message;
                audit.AuthenticationFailed(context.Request.Path, remote, mechanism, reason);
                Refuse(context, StatusCode.Unauthenticated, "The credentials were refused: unknown, revoked, expired or not for this broker.");
            }
            else
            {
                audit.Unauthenticated(context.Request.Path, remote);
                Refuse(context, StatusCode.Unauthenticated,
                    "This broker needs credentials: an API key or token in the authorization header, or a client certificate.");
            }
            return;
        }
        Refuse(context, StatusCode.PermissionDenied, "The caller may not call this method.");
    }

    private static bool IsGrpc(HttpContext context) =>
        context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;

    private static void Refuse(HttpContext context, StatusCode code, string message)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }
}
