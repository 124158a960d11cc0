using EventStream.Client.Producer.Wire;
using EventStream.Protocol.V1;
using Google.Protobuf;
using Grpc.Core;

namespace EventStream.Client.Producer;

/// <summary>
/// <c>eventstream.v1.Producer/ProduceStream</c> as the producer calls it: requests are
/// <see cref="EncodedProduceStreamRequest"/>, whose events were encoded when produced (the broker reads a
/// <c>ProduceStreamRequest</c>, see encoded_produce.proto), answers are the generated
/// <see cref="ProduceStreamResponse"/>. Messages are written to and read from the call's buffers directly.
/// </summary>
internal static class ProduceStreamMethod
{
    private static readonly Google.Protobuf.Reflection.MethodDescriptor Descriptor =
        Protocol.V1.Producer.Descriptor.FindMethodByName("ProduceStream");

    /// <summary>The method, named after the contract's descriptor.</summary>
    public static Method<EncodedProduceStreamRequest, ProduceStreamResponse> Method { get; } = new(
        MethodType.DuplexStreaming,
        Descriptor.Service.FullName,
        Descriptor.Name,
        Marshallers.Create<EncodedProduceStreamRequest>(Serialize, static context => EncodedProduceStreamRequest.Parser.ParseFrom(context.PayloadAsReadOnlySequence())),
        Marshallers.Create<ProduceStreamResponse>(Serialize, static context => ProduceStreamResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    private static void Serialize<T>(T message, SerializationContext context)
        where T : IMessage<T>
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }
}
