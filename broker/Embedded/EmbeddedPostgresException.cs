namespace EventStream.Broker.Embedded;

/// <summary>The embedded PostgreSQL could not be found, started or stopped; the message says why and what to do.</summary>
public sealed class EmbeddedPostgresException : Exception
{
    public EmbeddedPostgresException(string message)
        : base(message)
    {
    }

    public EmbeddedPostgresException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
