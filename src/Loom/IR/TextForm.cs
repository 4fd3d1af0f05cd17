using System.Globalization;
using System.Text;

namespace Loom.IR;

/// <summary>
/// The readable text form of the IR, in the spirit of MLIR and TVMScript:
/// <code>
/// graph main(x: float32[batch,3,224,224]) -> (y: float32[batch,1000]) {
///   init w: float32[64,3,7,7]
///   c: float32[batch,64,112,112] = Conv(x, w) {kernel_shape=[7, 7], strides=[2, 2]}
///   return y
/// }
/// </code>
/// Pass tests compare this text before and after a pass.
/// </summary>
public static class TextForm
{
    public static string FormatModel(Model m)
    {
        var sb = new StringBuilder();
        sb.Append("model opsets(")
          .Append(string.Join(", ", m.Opsets.Versions.OrderBy(kv => kv.Key, StringComparer.Ordinal)
              .Select(kv => (kv.Key.Length == 0 ? "ai.onnx" : kv.Key) + "=" + kv.Value)))
          .Append(")\n");
        WriteGraph(sb, m.Graph, "");
        return sb.ToString();
    }

    public static string FormatGraph(Graph g)
    {
        var sb = new StringBuilder();
        WriteGraph(sb, g, "");
        return sb.ToString();
    }

    private static void WriteGraph(StringBuilder sb, Graph g, string indent)
    {
        sb.Append(indent).Append("graph ").Append(Name(g.Name.Length > 0 ? g.Name : "main")).Append('(')
          .Append(string.Join(", ", g.Inputs.Select(i => Name(i.Name) + ": " + (i.Type?.ToString() ?? "?"))))
          .Append(") -> (")
          .Append(string.Join(", ", g.Outputs.Select(o => Name(o.Name) + ": " + (o.Type?.ToString() ?? "?"))))
          .Append(") {\n");
        foreach (var kv in g.Initializers.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append(indent).Append("  init ").Append(Name(kv.Key)).Append(" = ").Append(FormatTensor(kv.Value)).Append('\n');
        foreach (var n in g.Nodes)
        {
            sb.Append(indent).Append("  ").Append(FormatNode(n, g)).Append('\n');
            foreach (var sub in n.Subgraphs) WriteGraph(sb, sub, indent + "    ");
        }
        sb.Append(indent).Append("  return ").Append(string.Join(", ", g.Outputs.Select(o => Name(o.Name)))).Append('\n');
        sb.Append(indent).Append("}\n");
    }

    /// <summary>One node as <c>outs = Op(ins) {attrs}</c>, with inferred output types when <paramref name="g"/> is given.</summary>
    public static string FormatNode(Node n, Graph? g)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(", ", n.Outputs.Select(o =>
        {
            if (o.Length == 0) return "_";
            var t = g?.TypeOf(o);
            return t is null ? Name(o) : Name(o) + ": " + t;
        })));
        sb.Append(" = ");
        if (n.Domain.Length > 0) sb.Append(n.Domain).Append('.');
        sb.Append(n.OpType).Append('(').Append(string.Join(", ", n.Inputs.Select(i => i.Length == 0 ? "_" : Name(i)))).Append(')');
        if (n.Attributes.Length > 0)
            sb.Append(" {").Append(string.Join(", ", n.Attributes.OrderBy(a => a.Name, StringComparer.Ordinal))).Append('}');
        if (n.Name.Length > 0) sb.Append("  # ").Append(n.Name);
        return sb.ToString();
    }

    /// <summary>A tensor's type, and its values when it has at most 8 elements.</summary>
    public static string FormatTensor(Tensor t)
    {
        var s = t.DataType.Name() + ShapeMath.Format(t.Shape);
        if (t.Length > 8) return s;
        var values = new List<string>();
        for (int i = 0; i < t.Length; i++) values.Add(FormatElement(t, i));
        return s + " {" + string.Join(", ", values) + "}";
    }

    private static string FormatElement(Tensor t, int i) => t.DataType switch
    {
        DataType.String => "\"" + t.AsSpan<string>()[i] + "\"",
        DataType.Bool => t.AsSpan<bool>()[i] ? "true" : "false",
        _ when t.DataType.IsInteger() => t.GetDouble(i).ToString("R", CultureInfo.InvariantCulture),
        DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16 => t.GetDouble(i).ToString("G9", CultureInfo.InvariantCulture),
        _ => "0x" + t.AsSpan<byte>()[i].ToString("x2", CultureInfo.InvariantCulture),
    };

    /// <summary>Value names are printed bare when they are identifiers, else quoted.</summary>
    public static string Name(string name) =>
        name.Length > 0 && name.All(c => char.IsLetterOrDigit(c) || c is '_' or '.' or ':' or '/') && !char.IsDigit(name[0])
            ? name : "\"" + name.Replace("\"", "\\\"") + "\"";
}
