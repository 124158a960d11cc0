using System.Buffers;
using Microsoft.Extensions.Primitives;

namespace EventStream.Broker.Transport;

/// <summary>
/// Refuses a call whose binary metadata (headers named <c>*-bin</c>) is not base64 with
/// INVALID_ARGUMENT, before the call reaches grpc-dotnet, whose decoding of such a header
/// would otherwise fail the request with HTTP 500.
/// </summary>
internal static class BinaryHeaderCheck
{
    public static IApplicationBuilder UseBinaryHeaderCheck(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            foreach (var (name, values) in context.Request.Headers)
            {
                if (name.EndsWith("-bin", StringComparison.OrdinalIgnoreCase) && !IsBase64(values))
                {
                    context.Response.StatusCode = StatusCodes.Status200OK;
                    context.Response.ContentType = "application/grpc";
                    // Trailers-only: the status goes in the headers of a response without a body.
                    context.Response.Headers["grpc-status"] = "3";
                    context.Response.Headers["grpc-message"] = Uri.EscapeDataString($"Metadata {Shorten(name)} is not base64, as -bin metadata must be.");
                    return;
                }
            }
            await next(context);
        });

    private static bool IsBase64(StringValues values)
    {
        foreach (var value in values)
        {
            // gRPC allows unpadded base64, and several values joined by commas.
            foreach (var part in (value ?? "").Split(','))
            {
                var text = part.Trim();
                var padded = text.Length % 4 == 0 ? text : text + new string('=', 4 - text.Length % 4);
                var buffer = ArrayPool<byte>.Shared.Rent(padded.Length);
                try
                {
                    if (!Convert.TryFromBase64String(padded, buffer, out _))
                    {
                        return false;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        return true;
    }

    private static string Shorten(string name) => name.Length <= 64 ? name : name[..64] + "...";
}
