using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Pipelines;
using Google.Protobuf;

namespace EventStream.Grpc.Wire;

/// <summary>
/// Length-prefixed messages, the body of every gRPC call: a compressed flag (0 or 1), a 4-byte
/// big-endian length, then the (possibly gzip-compressed) protobuf bytes.
/// </summary>
public static class MessageFraming
{
    /// <summary>
    /// Reads the next message, or null at a clean end of the stream. Throws
    /// <see cref="GrpcException"/> with RESOURCE_EXHAUSTED for a message over the limit and
    /// INTERNAL for a malformed or truncated one.
    /// </summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(
        PipeReader reader, MessageParser<T> parser, int maxMessageSize, MessageCompression compression, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length >= GrpcProtocol.MessagePrefixSize)
            {
                var (compressed, length) = ReadPrefix(buffer);
                if (length > maxMessageSize)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new GrpcException(GrpcStatusCode.ResourceExhausted,
                        $"Received message of {length} bytes exceeds the limit of {maxMessageSize} bytes.");
                }
                if (buffer.Length - GrpcProtocol.MessagePrefixSize >= length)
                {
                    var payload = buffer.Slice(GrpcProtocol.MessagePrefixSize, length);
                    try
                    {
                        return Parse(payload, compressed, parser, maxMessageSize, compression);
                    }
                    finally
                    {
                        reader.AdvanceTo(payload.End);
                    }
                }
            }
            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                if (buffer.Length == 0)
                {
                    return null;
                }
                throw new GrpcException(GrpcStatusCode.Internal, "Incomplete message: the stream ended inside a message.");
            }
            if (result.IsCanceled)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                throw new OperationCanceledException(cancellationToken);
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Writes one message; RESOURCE_EXHAUSTED when it is over the limit.</summary>
    public static ValueTask<FlushResult> WriteMessageAsync(
        PipeWriter writer, IMessage message, int maxMessageSize, MessageCompression compression, CancellationToken cancellationToken)
    {
        WriteMessage(writer, message, maxMessageSize, compression);
        return writer.FlushAsync(cancellationToken);
    }

    /// <summary>Writes one message into the writer's buffer without flushing.</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, IMessage message, int maxMessageSize, MessageCompression compression)
    {
        var size = message.CalculateSize();
        if (size > maxMessageSize)
        {
            throw new GrpcException(GrpcStatusCode.ResourceExhausted,
                $"Sending message of {size} bytes exceeds the limit of {maxMessageSize} bytes.");
        }
        if (compression == MessageCompression.Gzip)
        {
            var compressed = Compress(message, size);
            var span = writer.GetSpan(GrpcProtocol.MessagePrefixSize + compressed.Length);
            WritePrefix(span, true, compressed.Length);
            compressed.CopyTo(span[GrpcProtocol.MessagePrefixSize..]);
            writer.Advance(GrpcProtocol.MessagePrefixSize + compressed.Length);
        }
        else
        {
            var span = writer.GetSpan(GrpcProtocol.MessagePrefixSize + size);
            WritePrefix(span, false, size);
            message.WriteTo(span.Slice(GrpcProtocol.MessagePrefixSize, size));
            writer.Advance(GrpcProtocol.MessagePrefixSize + size);
        }
    }

    private static (bool Compressed, long Length) ReadPrefix(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[GrpcProtocol.MessagePrefixSize];
        buffer.Slice(0, GrpcProtocol.MessagePrefixSize).CopyTo(prefix);
        var flag = prefix[0];
        if (flag > 1)
        {
            throw new GrpcException(GrpcStatusCode.Internal, $"Malformed message: compressed flag is {flag}, not 0 or 1.");
        }
        return (flag == 1, BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]));
    }

    private static void WritePrefix(Span<byte> span, bool compressed, int length)
    {
        span[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
    }

    private static T Parse<T>(ReadOnlySequence<byte> payload, bool compressed, MessageParser<T> parser, int maxMessageSize, MessageCompression compression)
        where T : class, IMessage<T>
    {
        if (compressed)
        {
            if (compression == MessageCompression.None)
            {
                throw new GrpcException(GrpcStatusCode.Internal, "Received a compressed message but the call names no grpc-encoding.");
            }
            payload = new ReadOnlySequence<byte>(Decompress(payload, maxMessageSize));
        }
        try
        {
            return parser.ParseFrom(payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new GrpcException(new GrpcStatus(GrpcStatusCode.Internal, "Failed to deserialize the message: " + e.Message), innerException: e);
        }
    }

    private static byte[] Compress(IMessage message, int size)
    {
        using var output = new MemoryStream(size / 2 + 64);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            message.WriteTo(gzip);
        }
        return output.ToArray();
    }

    private static byte[] Decompress(ReadOnlySequence<byte> payload, int maxMessageSize)
    {
        try
        {
            using var input = new MemoryStream(payload.ToArray());
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = gzip.Read(chunk)) > 0)
            {
                if (output.Length + read > maxMessageSize)
                {
                    throw new GrpcException(GrpcStatusCode.ResourceExhausted,
                        $"Decompressed message exceeds the limit of {maxMessageSize} bytes.");
                }
                output.Write(chunk, 0, read);
            }
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new GrpcException(new GrpcStatus(GrpcStatusCode.Internal, "Malformed gzip message."), innerException: e);
        }
    }
}
