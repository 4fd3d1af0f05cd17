namespace Loom;

/// <summary>A cluster or parallelization description that cannot describe a run: a missing field, a degree that does not divide the devices or the batch.</summary>
public sealed class WorkloadException : LoomException
{
    public WorkloadException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>An execution-trace file (Chakra protobuf or Loom's workload JSON) that is truncated, corrupt or inconsistent. Names the file.</summary>
public sealed class TraceFormatException : LoomException
{
    public TraceFormatException(string message, Exception? inner = null) : base(message, inner) { }
}
