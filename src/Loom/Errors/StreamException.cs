namespace Loom;

/// <summary>
/// An error in a stream program or stream graph: a syntax or type error in StreamIt source (the message
/// starts with <c>file:line:column</c>), a rate mismatch, an unschedulable split-join or a feedback loop
/// without enough delay (the message names the streams involved), or a filter that failed while running
/// (the message names the filter).
/// </summary>
public sealed class StreamException : LoomException
{
    public StreamException(string message, Exception? inner = null) : base(message, inner) { }
}
