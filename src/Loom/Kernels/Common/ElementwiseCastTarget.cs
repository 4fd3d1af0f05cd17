using Loom.IR;

namespace Loom.Kernels.Common;

/// <summary>Cast's <c>to</c> attribute: a TensorProto dtype code, or before opset 6 its name ("FLOAT", "INT64").</summary>
internal static class ElementwiseCastTarget
{
    /// <summary>The target dtype, or null with <paramref name="error"/> saying what is wrong.</summary>
    public static DataType? Of(Node node, out string error)
    {
        error = "";
        var a = node.GetAttribute("to");
        if (a is null) { error = "Cast needs the 'to' attribute"; return null; }
        DataType t;
        if (a.Kind == AttributeKind.String)
        {
            if (!DataTypes.TryParse(a.AsString(), out t)) { error = $"'to' names unknown data type '{a.AsString()}'"; return null; }
        }
        else t = (DataType)a.AsInt();
        if (!t.IsSupported()) { error = $"'to' is data type {a.FormatValue()}, which Loom does not support"; return null; }
        return t;
    }

    /// <summary>The <c>saturate</c> and <c>round_mode</c> attributes of Cast and CastLike.</summary>
    public static CastOptions Options(Node node, out string error)
    {
        error = "";
        var mode = node.GetString("round_mode", "up") switch
        {
            "up" => E8M0Rounding.Up,
            "down" => E8M0Rounding.Down,
            "nearest" => E8M0Rounding.Nearest,
            _ => (E8M0Rounding?)null,
        };
        if (mode is null) error = $"round_mode must be 'up', 'down' or 'nearest', not '{node.GetString("round_mode", "")}'";
        return new CastOptions(node.GetInt("saturate", 1) != 0, mode ?? E8M0Rounding.Up);
    }
}
