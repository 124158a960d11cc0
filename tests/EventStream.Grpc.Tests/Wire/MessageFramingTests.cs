using System.IO.Pipelines;
using EventStream.Grpc.Wire;
using EventStream.Interop.V1;
using Google.Protobuf;

namespace EventStream.Grpc.Tests.Wire;

public class MessageFramingTests
{
    private static readonly MessageParser<EchoRequest> Parser = EchoRequest.Parser;

    [Theory]
    [InlineData(MessageCompression.None)]
    [InlineData(MessageCompression.Gzip)]
    public async Task Round_trips_messages(MessageCompression compression)
    {
        var pipe = new Pipe();
        var first = new EchoRequest { Message = "one", Padding = ByteString.CopyFrom(new byte[10_000]) };
        var second = new EchoRequest { Message = "two" };
        await MessageFraming.WriteMessageAsync(pipe.Writer, first, 1 << 20, compression, default);
        await MessageFraming.WriteMessageAsync(pipe.Writer, second, 1 << 20, compression, default);
        await pipe.Writer.CompleteAsync();

        Assert.Equal(first, await MessageFraming.ReadMessageAsync(pipe.Reader, Parser, 1 << 20, compression, default));
        Assert.Equal(second, await MessageFraming.ReadMessageAsync(pipe.Reader, Parser, 1 << 20, compression, default));
        Assert.Null(await MessageFraming.ReadMessageAsync(pipe.Reader, Parser, 1 << 20, compression, default));
    }

    [Fact]
    public async Task Reads_a_message_split_across_many_writes()
    {
        var pipe = new Pipe();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        var message = new EchoRequest { Message = "split", Repeat = 7 };
        MessageFraming.WriteMessage(buffer, message, 1024, MessageCompression.None);
        var reading = MessageFraming.ReadMessageAsync(pipe.Reader, Parser, 1024, MessageCompression.None, default).AsTask();
        foreach (var b in buffer.WrittenMemory.ToArray())
        {
            await pipe.Writer.WriteAsync(new[] { b });
        }
        Assert.Equal(message, await reading);
    }

    [Fact]
    public async Task Message_over_the_limit_is_resource_exhausted()
    {
        var pipe = new Pipe();
        await MessageFraming.WriteMessageAsync(pipe.Writer, new EchoRequest { Padding = ByteString.CopyFrom(new byte[2048]) }, 1 << 20, MessageCompression.None, default);
        var error = await Assert.ThrowsAsync<GrpcException>(() => MessageFraming.ReadMessageAsync(pipe.Reader, Parser, 1024, MessageCompression.None, default).AsTask());
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public async Task Compressed_message_that_inflates_over_the_limit_is_resource_exhausted()
    {
        var pipe = new Pipe();
        // Zeros compress to almost nothing, so only the inflated size can catch this.
        await MessageFraming.WriteMessageAsync(pipe.Writer, new EchoRequest { Padding = ByteString.CopyFrom(new byte[100_000]) }, 1 << 20, MessageCompression.Gzip, default);
        var error = await Assert.ThrowsAsync<GrpcException>(() => MessageFraming.ReadMessageAsync(pipe.Reader, Parser, 10_000, MessageCompression.Gzip, default).AsTask());
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
    }

    [Fact]
    public void Sending_a_message_over_the_limit_is_resource_exhausted()
    {
        var error = Assert.Throws<GrpcException>(() =>
            MessageFraming.WriteMessage(new System.Buffers.ArrayBufferWriter<byte>(), new EchoRequest { Padding = ByteString.CopyFrom(new byte[2048]) }, 1024, MessageCompression.None));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.StatusCode);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0, 10, 1, 2, 3 }, "Incomplete")]
    [InlineData(new byte[] { 0, 0, 0 }, "Incomplete")]
    [InlineData(new byte[] { 2, 0, 0, 0, 0 }, "compressed flag")]
    [InlineData(new byte[] { 1, 0, 0, 0, 1, 7 }, "grpc-encoding")]
    [InlineData(new byte[] { 0, 0, 0, 0, 2, 0xFF, 0xFF }, "deserialize")]
    public async Task Malformed_frames_are_internal_errors(byte[] bytes, string expected)
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(bytes);
        await pipe.Writer.CompleteAsync();
        var error = await Assert.ThrowsAsync<GrpcException>(() => MessageFraming.ReadMessageAsync(pipe.Reader, Parser, 1024, MessageCompression.None, default).AsTask());
        Assert.Equal(GrpcStatusCode.Internal, error.StatusCode);
        Assert.Contains(expected, error.Status.Detail, StringComparison.OrdinalIgnoreCase);
    }
}
