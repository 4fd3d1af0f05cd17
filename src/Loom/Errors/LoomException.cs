namespace Loom;

/// <summary>
/// The one base type of every error Loom reports. Its message names the file, node, value or
/// tensor involved and what is wrong; when Loom throws it, nothing has been changed.
/// </summary>
public class LoomException : Exception
{
    public LoomException(string message) : base(message) { }
    public LoomException(string message, Exception? inner) : base(message, inner) { }
}

/// <summary>A model file (or bytes) that is not a well-formed ONNX model: truncated or corrupt protobuf, missing fields, invalid tensor data.</summary>
public sealed class ModelFormatException : LoomException
{
    public ModelFormatException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>An operator, opset, domain or data type Loom does not implement.</summary>
public sealed class UnsupportedException : LoomException
{
    public UnsupportedException(string message) : base(message) { }
}

/// <summary>A graph that breaks the IR's rules: a cycle, a value assigned twice, a use of an undefined value, types that disagree.</summary>
public sealed class GraphException : LoomException
{
    public GraphException(string message) : base(message) { }
}

/// <summary>Shapes or types that cannot go together, found by shape inference.</summary>
public sealed class ShapeException : LoomException
{
    public ShapeException(string message) : base(message) { }
    public ShapeException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>External tensor data that is missing, out of range, or whose path leaves the model's folder.</summary>
public sealed class ExternalDataException : LoomException
{
    public ExternalDataException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A declared size that would need more memory than the file holds or than the configured cap allows.</summary>
public sealed class ResourceLimitException : LoomException
{
    public ResourceLimitException(string message) : base(message) { }
}

/// <summary>Inputs given to <c>Run</c> that do not fit the model: unknown or missing names, wrong dtypes or ranks, dims contradicting a symbolic dim.</summary>
public sealed class InputException : LoomException
{
    public InputException(string message) : base(message) { }
}

/// <summary>A node failed while running (for example an index out of range in the data). Names the node.</summary>
public sealed class ExecutionException : LoomException
{
    public ExecutionException(string message, Exception? inner = null) : base(message, inner) { }
}
